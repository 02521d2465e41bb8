"""Incidents in Redis. Opening one per call, acknowledging and resolving are each one Lua script,
so a repeated job, two people answering "OK" at once or a CLI racing an SMS never number a call
twice or lose a change. Every change appends to the incident's history (state, by, at, note).

Incidents expire `ttl_days` after their last change (the hotline's `call_log_days`); a line's
index `ttl_days` after its newest incident; the set of lines with the longest-kept index.

The same scripts keep each line's open incidents (missed, acknowledged) in two sorted sets scored by
when the incident's hash expires, so /metrics counts them without reading any incident: an entry
past its score is not counted and is dropped at the set's next change; the sets expire with their
longest-kept incident.
"""
from __future__ import annotations

import datetime as dt
import json

from redis import Redis

from ivr import keys
from ivr.incidents.model import IncidentState
from ivr.sms.blast import _t

DAY = 86400

# KEYS: call map, seq, index, lines, open set of its state. ARGV: line, fields JSON, score, ttl, hash key
# prefix, history JSON, cutoff, expiry (epoch; '' when the state is not open), now (epoch).
_OPEN = """
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local n = tostring(redis.call('INCR', KEYS[2]))
local key = ARGV[5] .. n
redis.call('HSET', key, 'id', n)
for k, v in pairs(cjson.decode(ARGV[2])) do redis.call('HSET', key, k, tostring(v)) end
redis.call('RPUSH', key .. ':history', ARGV[6])
redis.call('EXPIRE', key, ARGV[4])
redis.call('EXPIRE', key .. ':history', ARGV[4])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. n, 'EX', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], n)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[1])
if redis.call('TTL', KEYS[4]) < tonumber(ARGV[4]) then redis.call('EXPIRE', KEYS[4], ARGV[4]) end
if ARGV[8] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[9])
  redis.call('ZADD', KEYS[5], ARGV[8], n)
  if redis.call('TTL', KEYS[5]) < tonumber(ARGV[4]) then redis.call('EXPIRE', KEYS[5], ARGV[4]) end
end
return {n, 1}
"""

# KEYS: incident, history, open missed set, open acknowledged set. ARGV: action (ack|resolve), by, at,
# note, ttl, number, expiry (epoch), now (epoch). Returns "ok" or the state that stopped it
# ("missing", "answered", "acknowledged", "resolved").
_CHANGE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if ARGV[1] == 'ack' then
  if state ~= 'missed' then return state end
  redis.call('HSET', KEYS[1], 'state', 'acknowledged', 'acknowledged_by', ARGV[2], 'acknowledged_at', ARGV[3])
  redis.call('RPUSH', KEYS[2], cjson.encode({state='acknowledged', by=ARGV[2], at=ARGV[3]}))
  redis.call('ZREM', KEYS[3], ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[8])
  redis.call('ZADD', KEYS[4], ARGV[7], ARGV[6])
  if redis.call('TTL', KEYS[4]) < tonumber(ARGV[5]) then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
else
  if state == 'resolved' then return state end
  if state == 'missed' then
    redis.call('HSET', KEYS[1], 'acknowledged_by', ARGV[2], 'acknowledged_at', ARGV[3])
  end
  redis.call('HSET', KEYS[1], 'state', 'resolved', 'resolved_by', ARGV[2], 'resolved_at', ARGV[3], 'note', ARGV[4])
  redis.call('RPUSH', KEYS[2], cjson.encode({state='resolved', by=ARGV[2], at=ARGV[3], note=ARGV[4]}))
  redis.call('ZREM', KEYS[3], ARGV[6])
  redis.call('ZREM', KEYS[4], ARGV[6])
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 'ok'
"""

OPEN_STATES = (IncidentState.MISSED.value, IncidentState.ACKNOWLEDGED.value)  # waiting for someone, taken

FIELDS = ("id", "line", "hotline", "call_sid", "state", "service", "service_name", "target", "from",
          "caller_name", "started_at", "outcome", "answered_by", "recording_url", "outage_id", "alert",
          "acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at", "note", "ttl_days")


def utc_iso(moment: dt.datetime) -> str:
    """Return an aware datetime as ISO 8601 UTC, seconds precision."""
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


class IncidentError(Exception):
    """An incident that cannot be found or changed, with a message for the admin."""


class IncidentStore:
    """Reads and changes incidents of every hotline in one Redis."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self._open = redis.register_script(_OPEN)
        self._change = redis.register_script(_CHANGE)

    # -- writing -------------------------------------------------------------------------------
    def open(self, line: str, call_sid: str, fields: dict[str, object], at: dt.datetime,
             ttl_days: int) -> tuple[int, bool]:
        """Number the incident of call `call_sid` unless it has one; returns (number, created).

        `fields` (state, service, from, ...) are stored only when it is created.
        """
        ttl = int(ttl_days) * DAY
        state = str(fields.get("state") or IncidentState.MISSED.value)
        history = {"state": state, "by": str(fields.get("answered_by") or ""), "at": utc_iso(at)}
        started = fields.get("started_at") or utc_iso(at)
        score = dt.datetime.fromisoformat(str(started)).timestamp()
        expiry = repr(at.timestamp() + ttl) if state in OPEN_STATES else ""
        stored = {**{k: ("" if v is None else v) for k, v in fields.items()}, "line": line, "call_sid": call_sid,
                  "ttl_days": int(ttl_days)}
        n, created = self._open(
            keys=[keys.incident_of_call(call_sid), keys.incident_seq(line), keys.incidents_index(line),
                  keys.incidents_lines(), keys.incidents_open(line, state)],
            args=[line, json.dumps(stored, default=str), score, ttl, keys.incident(line, ""),
                  json.dumps(history), score - ttl, expiry, repr(at.timestamp())])
        number = _t(n).split(" ")[-1]
        return int(number), bool(created)

    def set_fields(self, line: str, number: int, **values: str) -> None:
        """Store extra fields on an existing incident (e.g. its alert, a late recording URL)."""
        self.redis.hset(keys.incident(line, number), mapping=values)

    def acknowledge(self, line: str, number: int, by: str, at: dt.datetime) -> str:
        """Acknowledge a missed incident; returns "ok", or the state that stopped it ("missing",
        "answered", "acknowledged", "resolved")."""
        return self._run("ack", line, number, by, at, "")

    def resolve(self, line: str, number: int, by: str, at: dt.datetime, note: str = "") -> str:
        """Resolve an incident (acknowledging it too when it was missed); returns "ok", "missing"
        or "resolved" (it already was)."""
        return self._run("resolve", line, number, by, at, note)

    def _run(self, action: str, line: str, number: int, by: str, at: dt.datetime, note: str) -> str:
        ttl = int(self.redis.hget(keys.incident(line, number), "ttl_days") or 90) * DAY
        missed, acknowledged = (keys.incidents_open(line, s) for s in OPEN_STATES)
        return _t(self._change(keys=[keys.incident(line, number), keys.incident_history(line, number),
                                     missed, acknowledged],
                               args=[action, by, utc_iso(at), note[:500], ttl, int(number),
                                     repr(at.timestamp() + ttl), repr(at.timestamp())]))

    # -- reading -------------------------------------------------------------------------------
    def get(self, line: str, number: int) -> dict | None:
        """Return an incident's fields (id as int) and its history, or None when unknown."""
        raw = {_t(k): _t(v) for k, v in self.redis.hgetall(keys.incident(line, number)).items()}
        if not raw.get("id"):
            return None
        out: dict = {k: raw.get(k) or None for k in FIELDS}
        out["id"] = int(raw["id"])
        out["history"] = [json.loads(_t(h)) for h in self.redis.lrange(keys.incident_history(line, number), 0, -1)]
        return out

    def of_call(self, call_sid: str) -> tuple[str, int] | None:
        """Return (line, number) of the incident of call `call_sid`, or None."""
        raw = self.redis.get(keys.incident_of_call(call_sid))
        if not raw:
            return None
        line, number = _t(raw).split(" ")
        return line, int(number)

    def lines(self) -> list[str]:
        """Return every hotline line that has incidents, sorted."""
        return sorted(_t(x) for x in self.redis.smembers(keys.incidents_lines()))

    def open_counts(self, now: float) -> dict[str, dict[str, int]]:
        """Return {line: {state: incidents open}} for every line with incidents and each open
        state, at epoch `now` (entries whose incident has expired by then are not counted).
        Two round trips, whatever the number of incidents. Raises redis errors."""
        lines = self.lines()
        pipe = self.redis.pipeline(transaction=False)
        for line in lines:
            for state in OPEN_STATES:
                pipe.zcount(keys.incidents_open(line, state), f"({now!r}", "+inf")
        counts = iter(pipe.execute() if lines else [])
        return {line: {state: int(next(counts)) for state in OPEN_STATES} for line in lines}

    def numbers(self, line: str, since: dt.datetime | None = None, limit: int = 1000) -> list[tuple[float, int]]:
        """Return (start epoch, number) of a hotline's incidents, newest first."""
        low = since.timestamp() if since else "-inf"
        found = self.redis.zrevrangebyscore(keys.incidents_index(line), "+inf", low, start=0, num=limit,
                                            withscores=True)
        return [(score, int(_t(n))) for n, score in found]

    def find(self, number: int, line: str | None = None) -> list[tuple[str, int]]:
        """Return (line, number) of each hotline's incident with this number (one line: that one)."""
        lines = [line] if line else self.lines()
        return [(ln, number) for ln in lines if self.redis.exists(keys.incident(ln, number))]
