"""Remove one person's phone number from what the hotline keeps in Redis (a request to be forgotten).

`find` looks and changes nothing; `purge` removes what `find` saw:
- calls made FROM the number: deleted whole (events, dedup set, index entries, outage links,
  staff session);
- other calls that name it (a person the call was put through to, an accept, a decline): the
  number is replaced by PURGED in every event, the rest of the incident stays;
- outages declared or restored by phone from it (`phone:<number>`): the number replaced;
- SMS blast recipients with that number: deleted, with their message-SID map entries;
- a staff PIN lockout counter of the number;
- incidents naming it (the caller, who answered, acknowledged or resolved it, their history): the
  number replaced by PURGED (a caller's name from the sites list goes too), the incident stays;
- the record of the alerts it was paged about (`hotline:notified:{number}`): deleted;
- calls from it waiting to be settled (their marks, ivr.incidents.due): the caller and the
  caller's site name replaced (the settling then finds the call deleted or masked).
Contact lists and staff callers in the YAML files are config, not data: they are not touched.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from redis import Redis

from ivr import keys
from ivr.calls.events import fold
from ivr.calls.store import UNKNOWN_LINE
from ivr.sms.blast import _t

PURGED = "(purged)"

# Replace the number (not followed by a digit) in every item of the list KEYS[1], counting them.
_MASK_ITEMS = """
local pat = string.gsub(ARGV[1], '(%W)', '%%%1') .. '%f[%D]'
local n = 0
for i, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.find(item, pat) then
    redis.call('LSET', KEYS[1], i - 1, (string.gsub(item, pat, ARGV[2])))
    n = n + 1
  end
end
"""

# Replace the number in every item of a list (an incident's history). KEYS: list. ARGV: number,
# replacement. Returns how many items changed. The TTL is kept.
_MASK_LIST = _MASK_ITEMS + "return n\n"

# Replace the number in every event of a call and its dedup ids. KEYS: events, seen. ARGV: number,
# replacement. Returns how many events changed. TTLs are kept.
_MASK_CALL = _MASK_ITEMS + """
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if string.find(m, pat) then
    redis.call('SREM', KEYS[2], m)
    redis.call('SADD', KEYS[2], (string.gsub(m, pat, ARGV[2])))
  end
end
return n
"""

# Delete one blast recipient and keep the blast's counters true. KEYS: recipient, recipient list,
# blast. ARGV: number. Returns the recipient's message SID ('' if none), or false if it is gone.
_DROP_RECIPIENT = """
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return false end
local sid = redis.call('HGET', KEYS[1], 'sid') or ''
if st == 'sent' or st == 'failed' then
  redis.call('HINCRBY', KEYS[3], 'done', -1)
  redis.call('HINCRBY', KEYS[3], st, -1)
end
redis.call('HINCRBY', KEYS[3], 'total', -1)
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('DEL', KEYS[1])
return sid
"""


# Put a changed member in place of another with the same score. KEYS: sorted set. ARGV: old, new.
# Returns 1, or 0 when the old one is gone (enqueued meanwhile).
_SWAP_MEMBER = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], score, ARGV[2])
return 1
"""

_OUTAGE_HASH = re.compile(r"^hotline:outage:\d+$")
_INCIDENT_HASH = re.compile(r"^hotline:incident:\+?[0-9a-z]+:\d+$")
_WHO_FIELDS = ("declared_by", "restored_by")


@dataclass
class Findings:
    """What `find` saw of one number; `purge` returns the same shape for what it removed."""

    number: str
    calls_from: list[str] = field(default_factory=list)     # CallSids, deleted whole
    calls_naming: list[str] = field(default_factory=list)   # CallSids, the number masked
    outages: list[str] = field(default_factory=list)        # outage ids, the number masked
    recipients: list[str] = field(default_factory=list)     # blast ids that texted the number
    lockouts: list[str] = field(default_factory=list)       # staff PIN failure counters
    incidents: list[str] = field(default_factory=list)      # "line number", the number masked
    notified: list[str] = field(default_factory=list)       # who-was-paged records, deleted
    settle_marks: list[str] = field(default_factory=list)   # CallSids waiting to be settled, caller masked

    def counts(self) -> dict[str, int]:
        """Return {kind: how many} in a fixed order."""
        return {"calls_from": len(self.calls_from), "calls_naming": len(self.calls_naming),
                "outages": len(self.outages), "blast_recipients": len(self.recipients),
                "staff_lockouts": len(self.lockouts), "incidents": len(self.incidents),
                "notified": len(self.notified), "settle_marks": len(self.settle_marks)}


def _whole(number: str) -> re.Pattern:
    return re.compile(re.escape(number) + r"(?!\d)")


def names(text: str, number: str) -> bool:
    """Return True when `text` holds `number` as a whole number (not the start of a longer one)."""
    return _whole(number).search(text) is not None


def is_hotline(redis: Redis, number: str) -> bool:
    """Return True when `number` is a line with a calls index (purging it would gut the call log)."""
    return bool(redis.sismember(keys.calls_lines(), number))


def find(redis: Redis, number: str) -> Findings:
    """Return everything in Redis that names `number` (E.164); changes nothing. Raises redis errors."""
    found = Findings(number)
    for key in redis.scan_iter(match=keys.call_events("*"), count=500, _type="list"):
        raw = [_t(item) for item in redis.lrange(key, 0, -1)]
        if not any(names(item, number) for item in raw):
            continue
        sid = _t(key).split(":")[2]
        record = fold(sid, [json.loads(item) for item in raw])
        (found.calls_from if record.get("from") == number else found.calls_naming).append(sid)
    for key in redis.scan_iter(match=keys.outage("*"), count=500, _type="hash"):
        key = _t(key)
        if _OUTAGE_HASH.match(key):
            who = [_t(v) for v in redis.hmget(key, *_WHO_FIELDS) if v is not None]
            if any(names(v, number) for v in who):
                found.outages.append(key.rsplit(":", 1)[1])
    suffix = ":to:" + number
    for key in redis.scan_iter(match=keys.blast_recipient("*", number), count=500, _type="hash"):
        key = _t(key)
        found.recipients.append(key[len(keys.blast("")):-len(suffix)])
    found.lockouts = [_t(k) for k in redis.scan_iter(match=keys.staff_attempts("*", number), count=500)]
    for key in redis.scan_iter(match=keys.incident("*", "*"), count=500, _type="hash"):
        key = _t(key)
        if not _INCIDENT_HASH.match(key):
            continue
        line, n = key.split(":")[2:4]
        values = [_t(v) for v in redis.hvals(key)]
        values += [_t(v) for v in redis.lrange(keys.incident_history(line, n), 0, -1)]
        if any(names(v, number) for v in values):
            found.incidents.append(f"{line} {n}")
    if redis.exists(keys.notified(number)):
        found.notified.append(keys.notified(number))
    found.settle_marks = [mark["sid"] for _, mark in _marks_from(redis, number)]
    for part in (found.calls_from, found.calls_naming, found.outages, found.recipients, found.lockouts,
                 found.incidents, found.settle_marks):
        part.sort()
    return found


def _marks_from(redis: Redis, number: str) -> list[tuple[str, dict]]:
    """Return (member, parsed) of the settle marks whose caller is `number` (ivr.incidents.due)."""
    out = []
    for raw in redis.zrange(keys.settle_due(), 0, -1):
        member = _t(raw)
        if not names(member, number):
            continue
        try:
            mark = json.loads(member)
        except ValueError:
            continue
        if isinstance(mark, dict) and mark.get("caller") == number:
            out.append((member, mark))
    return out


def purge(redis: Redis, found: Findings) -> Findings:
    """Remove what `found` lists; returns what was actually removed (things may expire meanwhile).

    Each step is safe to repeat: run it again after an interruption. Raises redis errors.
    """
    number, done = found.number, Findings(found.number)
    if found.calls_from:
        lines = [_t(line) for line in redis.smembers(keys.calls_lines())] + [UNKNOWN_LINE]
        links = [_t(k) for k in redis.scan_iter(match=keys.outage_calls("*"), count=500)]
        for sid in found.calls_from:
            pipe = redis.pipeline()
            pipe.delete(keys.call_events(sid), keys.call_seen(sid), keys.staff_session(sid))
            for line in lines:
                pipe.zrem(keys.calls_index(line), sid)
            for link in links:
                pipe.srem(link, sid)
            if pipe.execute()[0]:
                done.calls_from.append(sid)
    mask = redis.register_script(_MASK_CALL)
    for sid in found.calls_naming:
        if mask(keys=[keys.call_events(sid), keys.call_seen(sid)], args=[number, PURGED]):
            done.calls_naming.append(sid)
    for oid in found.outages:
        key = keys.outage(oid)
        values = dict(zip(_WHO_FIELDS, redis.hmget(key, *_WHO_FIELDS)))
        changed = {f: _whole(number).sub(PURGED, _t(v)) for f, v in values.items()
                   if v is not None and names(_t(v), number)}
        if changed:
            redis.hset(key, mapping=changed)
            done.outages.append(oid)
    drop = redis.register_script(_DROP_RECIPIENT)
    for bid in found.recipients:
        sid = drop(keys=[keys.blast_recipient(bid, number), keys.blast_recipients(bid), keys.blast(bid)],
                   args=[number])
        if sid is None:
            continue
        if _t(sid):
            redis.delete(keys.sms_sid(_t(sid)), keys.sms_early_status(_t(sid)))
        done.recipients.append(bid)
    if found.lockouts and redis.delete(*found.lockouts):
        done.lockouts = list(found.lockouts)
    mask_list = redis.register_script(_MASK_LIST)
    for item in found.incidents:
        if _mask_incident(redis, mask_list, *item.split(" "), number):
            done.incidents.append(item)
    if found.notified and redis.delete(*found.notified):
        done.notified = list(found.notified)
    if found.settle_marks:
        swap = redis.register_script(_SWAP_MEMBER)
        for member, mark in _marks_from(redis, number):
            masked = json.dumps({**mark, "caller": PURGED, "caller_name": ""}, ensure_ascii=False,
                                separators=(",", ":"))
            if swap(keys=[keys.settle_due()], args=[member, masked]):
                done.settle_marks.append(mark["sid"])
        done.settle_marks.sort()
    return done


def _mask_incident(redis: Redis, mask_list, line: str, n: str, number: str) -> bool:
    """Replace `number` in an incident's fields and history; returns True when something changed."""
    key = keys.incident(line, n)
    fields = {_t(k): _t(v) for k, v in redis.hgetall(key).items()}
    changed = {k: _whole(number).sub(PURGED, v) for k, v in fields.items() if names(v, number)}
    if fields.get("from") == number:
        changed["caller_name"] = ""  # the caller's site name would tell who called
    if changed and fields:
        redis.hset(key, mapping=changed)
    return bool(mask_list(keys=[keys.incident_history(line, n)], args=[number, PURGED])) or bool(changed and fields)
