"""Outages in Redis. Declare, restore and firing an escalation step are each one Lua script,
so two admins (or an admin and a worker) racing can never open two outages of the same system
or fire a step after the restore.

The outage hash keeps a snapshot taken at declare (system name, time zone, language, sender,
escalation steps): jobs need no config, and editing the config does not change an outage that
is already under way.
"""
from __future__ import annotations

import datetime as dt
import json

from redis import Redis

from ivr import keys
from ivr.outages.model import Outage, OutageState
from ivr.sms.blast import _t

DAY = 86400

_DECLARE = """
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
local id = tostring(redis.call('INCR', KEYS[2]))
local key = ARGV[1] .. id
local snap = cjson.decode(ARGV[2])
redis.call('HSET', key, 'id', id, 'state', 'open')
for k, v in pairs(snap) do redis.call('HSET', key, k, tostring(v)) end
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('PERSIST', KEYS[3])  -- the index lives while an outage is open (see _KEEP)
return {id, 1}
"""

_RESTORE = """
local id = redis.call('GET', KEYS[1])
if not id then return false end
local key = ARGV[1] .. id
redis.call('HSET', key, 'state', 'restored', 'restored_at', ARGV[2], 'restored_by', ARGV[3])
redis.call('DEL', KEYS[1])
return id
"""

# Append blast id ARGV[1] to the outage's list unless it is there (racing callers add it once).
_ADD_BLAST = """
for _, b in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if b == ARGV[1] then return 0 end
end
return redis.call('RPUSH', KEYS[1], ARGV[1])
"""

# Retention of a restored outage. KEYS: the line's outage index, then the outage's keys (hash, calls,
# blasts, each blast's hash, list and recipients). ARGV: outage key prefix, ttl seconds (> 0).
# Each key's TTL is set or shortened, never extended. The index drops ids whose outage has expired
# and, once no outage in it is open, expires with the longest-kept one.
_KEEP = """
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  local t = redis.call('TTL', KEYS[i])
  if t == -1 or t > ttl then redis.call('EXPIRE', KEYS[i], ttl) end
end
local open = false
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local st = redis.call('HGET', ARGV[1] .. id, 'state')
  if not st then redis.call('ZREM', KEYS[1], id) elseif st == 'open' then open = true end
end
if not open then
  local t = redis.call('TTL', KEYS[1])
  if t ~= -2 and t < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
end
return #KEYS - 1
"""

# Link a call to an outage. KEYS: the outage's calls, the outage. ARGV: CallSid. A link that comes
# after the restore (a call that read "open" just before it) expires with the outage.
_LINK = """
redis.call('SADD', KEYS[1], ARGV[1])
local t = redis.call('TTL', KEYS[2])
if t > 0 and redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], t) end
return 1
"""

# Fire escalation step ARGV[1] once, and only while the outage is open.
_FIRE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 0 end
return redis.call('HSETNX', KEYS[1], 'fired:' .. ARGV[1], ARGV[2])
"""


def _parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


class OutageStore:
    """Reads and changes outages of all hotlines in one Redis."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self._declare = redis.register_script(_DECLARE)
        self._restore = redis.register_script(_RESTORE)
        self._fire = redis.register_script(_FIRE)
        self._add_blast = redis.register_script(_ADD_BLAST)
        self._keep = redis.register_script(_KEEP)
        self._link = redis.register_script(_LINK)

    def declare(self, line: str, system: str, snapshot: dict[str, object], at: dt.datetime) -> tuple[str, bool]:
        """Open an outage of `system` on `line` unless one is open; returns (id, created).

        `snapshot` holds the fields stored with a new outage (message, declared_by, ...).
        """
        snap = {**snapshot, "line": line, "system": system, "declared_at": at.astimezone(dt.timezone.utc).isoformat()}
        oid, created = self._declare(
            keys=[keys.outage_open(line, system), keys.outage_seq(), keys.outages_index(line)],
            args=[keys.outage(""), json.dumps(snap, default=str), at.timestamp()])
        return _t(oid), bool(created)

    def restore(self, line: str, system: str, by: str, at: dt.datetime) -> str | None:
        """Mark the open outage of `system` restored; returns its id, or None if none was open."""
        oid = self._restore(keys=[keys.outage_open(line, system)],
                            args=[keys.outage(""), at.astimezone(dt.timezone.utc).isoformat(), by])
        return _t(oid) if oid else None

    def keep(self, outage_id: str, keep_days: int, now: dt.datetime) -> int:
        """Let a restored outage, its call links and its blasts expire `keep_days` after its restore.

        Counted from `restored_at` (from `now` if it has none), so applying it again later never
        extends the retention; past it, the keys are deleted at once. An open outage is left alone.
        Returns how many keys it set (0 for an open or unknown outage).
        """
        raw = self.raw(outage_id)
        if not raw.get("id") or raw.get("state") == OutageState.OPEN.value:
            return 0  # an open outage is kept while it lasts
        since = _parse_time(raw.get("restored_at")) or now
        ttl = int(keep_days * DAY - max(0.0, (now - since).total_seconds()))
        found = [keys.outage(outage_id), keys.outage_calls(outage_id), keys.outage_blasts(outage_id)]
        for bid in self.blasts(outage_id):
            found += [keys.blast(bid), keys.blast_recipients(bid), keys.blast_resends(bid)]
            found += [keys.blast_recipient(bid, _t(n)) for n in self.redis.lrange(keys.blast_recipients(bid), 0, -1)]
        index = keys.outages_index(raw.get("line", ""))
        if ttl <= 0:
            self.redis.delete(*found)
            self.redis.zrem(index, outage_id)
            return len(found)
        return int(self._keep(keys=[index, *found], args=[keys.outage(""), ttl]))

    def fire(self, outage_id: str, step: int, at: dt.datetime) -> bool:
        """Claim escalation `step`; returns True for exactly one caller while the outage is open."""
        return bool(self._fire(keys=[keys.outage(outage_id)], args=[step, at.astimezone(dt.timezone.utc).isoformat()]))

    def set_fields(self, outage_id: str, **values: str) -> None:
        """Store extra fields (e.g. scheduled job ids) on an outage."""
        self.redis.hset(keys.outage(outage_id), mapping=values)

    def raw(self, outage_id: str) -> dict[str, str]:
        """Return every stored field of an outage as text (empty when unknown)."""
        return {_t(k): _t(v) for k, v in self.redis.hgetall(keys.outage(outage_id)).items()}

    def get(self, outage_id: str) -> Outage | None:
        """Return the outage, or None when unknown."""
        return _outage(self.raw(outage_id))

    def open_id(self, line: str, system: str) -> str | None:
        """Return the id of the open outage of `system` on `line`, or None."""
        oid = self.redis.get(keys.outage_open(line, system))
        return _t(oid) if oid else None

    def open_outages(self, line: str, systems: list[str]) -> list[Outage]:
        """Return the open outages of these systems on `line`, oldest first."""
        ids = [self.open_id(line, s) for s in systems]
        found = [o for o in (self.get(i) for i in ids if i) if o and o.state is OutageState.OPEN]
        return sorted(found, key=lambda o: o.declared_at)

    def list(self, line: str, limit: int = 50) -> list[Outage]:
        """Return the newest `limit` outages of `line`, newest first."""
        ids = [_t(i) for i in self.redis.zrevrange(keys.outages_index(line), 0, limit - 1)]
        return [o for o in (self.get(i) for i in ids) if o]

    def link_call(self, outage_id: str, call_sid: str) -> None:
        """Remember that call `call_sid` was about this outage."""
        self._link(keys=[keys.outage_calls(outage_id), keys.outage(outage_id)], args=[call_sid])

    def calls(self, outage_id: str) -> list[str]:
        """Return the CallSids linked to an outage, sorted."""
        return sorted(_t(c) for c in self.redis.smembers(keys.outage_calls(outage_id)))

    def add_blast(self, outage_id: str, blast_id: str) -> None:
        """Append a blast id to the outage's list (once, even when callers race)."""
        self._add_blast(keys=[keys.outage_blasts(outage_id)], args=[blast_id])

    def blasts(self, outage_id: str) -> list[str]:
        """Return the outage's blast ids in the order they started."""
        return [_t(b) for b in self.redis.lrange(keys.outage_blasts(outage_id), 0, -1)]


def _outage(d: dict[str, str]) -> Outage | None:
    if not d.get("id"):
        return None
    fired = {int(k.split(":", 1)[1]): v for k, v in d.items() if k.startswith("fired:")}
    return Outage(
        id=d["id"], line=d.get("line", ""), system=d.get("system", ""), state=OutageState(d["state"]),
        message=d.get("message", ""), declared_at=_parse_time(d["declared_at"]),
        declared_by=d.get("declared_by", ""), restored_at=_parse_time(d.get("restored_at")),
        restored_by=d.get("restored_by"), fired=fired,
    )
