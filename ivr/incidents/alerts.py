"""Alerts in Redis: who is paged about a missed incident, and the incidents grouped with it.

An alert is named by its first incident (the "lead"). A missed call during an open outage joins
the outage's alert while it still waits for someone, so thirty calls page each person once. The
alert keeps a snapshot of the notify lists, texts and sender taken when it opened: jobs need no
config, and editing the config does not change paging already under way. Joining, paging a round
and acknowledging are each one Lua script.
"""
from __future__ import annotations

import datetime as dt
import json

from redis import Redis

from ivr import keys
from ivr.incidents.store import DAY, utc_iso
from ivr.sms.blast import _t

WAITING, NOTIFIED, ACKNOWLEDGED = "waiting", "notified", "acknowledged"

# KEYS: outage pointer. ARGV: line, incident, snapshot, at, ttl, alert prefix, grouped ('1'/'0'), outage id.
_JOIN = """
if ARGV[7] == '1' then
  local lead = redis.call('GET', KEYS[1])
  if lead then
    local key = ARGV[6] .. lead
    local st = redis.call('HGET', key, 'state')
    if st == 'waiting' or st == 'notified' then
      redis.call('SADD', key .. ':incidents', ARGV[2])
      if st == 'notified' and redis.call('HSETNX', key, 'followup', ARGV[2]) == 1 then
        return {lead, 0, 1}
      end
      return {lead, 0, 0}
    end
  end
end
local key = ARGV[6] .. ARGV[2]
if redis.call('EXISTS', key) == 1 then return {ARGV[2], 0, 0} end
redis.call('HSET', key, 'line', ARGV[1], 'lead', ARGV[2], 'state', 'waiting', 'created_at', ARGV[4],
           'snapshot', ARGV[3], 'outage_id', ARGV[8])
redis.call('SADD', key .. ':incidents', ARGV[2])
redis.call('EXPIRE', key, ARGV[5])
redis.call('EXPIRE', key .. ':incidents', ARGV[5])
if ARGV[7] == '1' then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[5]) end
return {ARGV[2], 1, 0}
"""

# Page round ARGV[1] once, and only while nobody has acknowledged.
_FIRE = """
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'waiting' and st ~= 'notified' then return 0 end
if redis.call('HSETNX', KEYS[1], 'fired:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'notified', 'round', ARGV[1])
return 1
"""

# KEYS: alert, outage pointer. ARGV: by, at, lead. Returns {'ok'|state, acknowledged_by}.
_ACK = """
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'missing', ''} end
if st ~= 'waiting' and st ~= 'notified' then
  return {st, redis.call('HGET', KEYS[1], 'acknowledged_by') or ''}
end
redis.call('HSET', KEYS[1], 'state', 'acknowledged', 'acknowledged_by', ARGV[1], 'acknowledged_at', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return {'ok', ARGV[1]}
"""


class AlertStore:
    """Reads and changes alerts of every hotline in one Redis."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self._join = redis.register_script(_JOIN)
        self._fire = redis.register_script(_FIRE)
        self._ack = redis.register_script(_ACK)

    def join(self, line: str, number: int, snapshot: dict, outage_id: str | None, at: dt.datetime,
             ttl_days: int) -> tuple[int, bool, bool]:
        """Put incident `number` into its outage's waiting alert, else open an alert of its own;
        returns (lead, created, follow_up): `follow_up` True for the first call to join an alert
        that has paged already (the caller schedules one follow-up page for such late calls)."""
        pointer = keys.outage_alert(line, outage_id or "-")
        lead, created, follow_up = self._join(
            keys=[pointer],
            args=[line, number, json.dumps(snapshot), utc_iso(at), int(ttl_days) * DAY, keys.alert(line, ""),
                  "1" if outage_id else "0", outage_id or ""])
        return int(_t(lead)), bool(created), bool(follow_up)

    def fire(self, line: str, lead: int, round_: int, at: dt.datetime) -> bool:
        """Claim paging round `round_`; True for exactly one caller while nobody acknowledged."""
        return bool(self._fire(keys=[keys.alert(line, lead)], args=[round_, utc_iso(at)]))

    def acknowledge(self, line: str, lead: int, by: str, at: dt.datetime) -> tuple[str, str]:
        """Mark the alert taken by `by`; returns ("ok", by) or (state found, who had taken it)."""
        outage_id = _t(self.redis.hget(keys.alert(line, lead), "outage_id") or "")
        status, who = self._ack(keys=[keys.alert(line, lead), keys.outage_alert(line, outage_id or "-")],
                                args=[by, utc_iso(at), lead])
        return _t(status), _t(who)

    def get(self, line: str, lead: int) -> dict | None:
        """Return an alert's fields (snapshot decoded, fired rounds as a dict), or None."""
        raw = {_t(k): _t(v) for k, v in self.redis.hgetall(keys.alert(line, lead)).items()}
        if not raw.get("lead"):
            return None
        raw["snapshot"] = json.loads(raw.get("snapshot") or "{}")
        raw["fired"] = {int(k.split(":", 1)[1]): v for k, v in raw.items() if k.startswith("fired:")}
        return raw

    def members(self, line: str, lead: int) -> list[int]:
        """Return the incident numbers of an alert, lowest first."""
        return sorted(int(_t(n)) for n in self.redis.smembers(keys.alert_incidents(line, lead)))

    def take_follow_up(self, line: str, lead: int) -> None:
        """Clear the follow-up flag: a call joining from now on schedules the next follow-up."""
        self.redis.hdel(keys.alert(line, lead), "followup")

    def mark_paged(self, line: str, lead: int, numbers: list[int]) -> None:
        """Remember that a page named these incidents."""
        if numbers:
            self.redis.sadd(keys.alert_paged(line, lead), *numbers)
            self.redis.expire(keys.alert_paged(line, lead), self.seconds_left(line, lead))

    def paged_incidents(self, line: str, lead: int) -> set[int]:
        """Return the incident numbers some page of the alert has named."""
        return {int(_t(n)) for n in self.redis.smembers(keys.alert_paged(line, lead))}

    def add_blast(self, line: str, lead: int, blast_id: str) -> None:
        """Remember a blast sent about this alert (once); the list expires with the alert."""
        if blast_id not in self.blasts(line, lead):
            self.redis.rpush(keys.alert_blasts(line, lead), blast_id)
        self.redis.expire(keys.alert_blasts(line, lead), self.seconds_left(line, lead))

    def seconds_left(self, line: str, lead: int) -> int:
        """Return the alert's remaining retention in seconds (90 days when it has none or is gone)."""
        ttl = int(self.redis.ttl(keys.alert(line, lead)))
        return ttl if ttl > 0 else 90 * DAY

    def blasts(self, line: str, lead: int) -> list[str]:
        """Return the alert's blast ids in the order they were sent."""
        return [_t(b) for b in self.redis.lrange(keys.alert_blasts(line, lead), 0, -1)]

    def mark_notified(self, numbers: list[str], line: str, lead: int, at: dt.datetime, keep_days: int = 30) -> None:
        """Remember that these numbers were paged about the alert (their SMS replies refer to it)."""
        pipe = self.redis.pipeline(transaction=False)
        for number in numbers:
            pipe.zadd(keys.notified(number), {f"{line} {lead}": at.timestamp()})
            pipe.expire(keys.notified(number), keep_days * DAY)
        pipe.execute()

    def paged(self, number: str) -> list[tuple[str, int]]:
        """Return (line, lead) of the alerts `number` was paged about, newest first."""
        out = []
        for raw in self.redis.zrevrange(keys.notified(number), 0, 200):
            line, lead = _t(raw).split(" ")
            out.append((line, int(lead)))
        return out
