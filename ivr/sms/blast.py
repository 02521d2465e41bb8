"""Blasts in Redis: one message body to many recipients, each sent exactly once.

Per recipient a hash holds a small state machine (RecipientState), changed only by the Lua
scripts below, so every step is atomic on Redis's clock:

  pending --claim--> sending --(Twilio 201)--> sent
                        |  \\--(permanent error / too many tries)--> failed
                        \\--(lease runs out: worker died)--> claimable again, *in doubt*

`inflight` is set just before each create request and cleared when its answer is known; a claim
that finds an expired lease with `inflight` set, or an answer that may have created a message
(5xx, timeout), sets `doubt`. A recipient in doubt is never sent to again before Twilio's
message list has been searched for the body (ivr.sms.sender) -- Twilio's create has no
idempotency key, so that list is the only way to close the crash window between Twilio's 201
and our write of the SID.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from redis import Redis

from ivr import keys

# Message statuses in the order Twilio moves through them; a callback never moves a status back.
STATUS_RANK = {
    "accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3, "receiving": 3, "received": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "read": 5, "canceled": 4,
}


def _t(value: bytes | str) -> str:
    """Return a Redis reply as text, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


class RecipientState(str, Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Claim(str, Enum):
    """What a claim attempt found."""

    FRESH = "fresh"        # ours; nothing was sent before
    DOUBT = "doubt"        # ours; an earlier attempt may have reached Twilio: search before sending
    BUSY = "busy"          # another worker holds a live lease
    LATER = "later"        # waiting for its retry time
    DONE = "done"          # already sent or failed
    MISSING = "missing"    # no such recipient


@dataclass(frozen=True)
class Blast:
    """A blast's frozen description (what `create` stored)."""

    id: str
    body: str
    sender_from: str | None
    messaging_service_sid: str | None
    rate: float
    status_callback: str | None
    outage_id: str
    kind: str
    total: int

    @property
    def sender(self) -> str:
        """Return the rate-limit identity: the messaging service or the from number."""
        return self.messaging_service_sid or self.sender_from or ""


_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local meta = cjson.decode(ARGV[1])
for k, v in pairs(meta) do redis.call('HSET', KEYS[1], k, tostring(v)) end
local n = 0
for i = 3, #ARGV do
  if redis.call('EXISTS', KEYS[2] .. ':' .. ARGV[i]) == 0 then
    redis.call('HSET', KEYS[2] .. ':' .. ARGV[i], 'state', 'pending', 'attempts', 0)
    redis.call('RPUSH', KEYS[2], ARGV[i])
    n = n + 1
  end
end
redis.call('HSET', KEYS[1], 'total', n, 'done', 0, 'sent', 0, 'failed', 0)
redis.call('SADD', KEYS[3], ARGV[2])
return 1
"""

_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'missing' end
if st == 'sent' or st == 'failed' then return 'done' end
if st == 'sending' then
  if tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0') > now then return 'busy' end
  if redis.call('HGET', KEYS[1], 'inflight') == '1' then redis.call('HSET', KEYS[1], 'doubt', '1') end
elseif tonumber(redis.call('HGET', KEYS[1], 'not_before') or '0') > now then
  return 'later'
end
redis.call('HSET', KEYS[1], 'state', 'sending', 'token', ARGV[1],
           'lease_until', string.format('%d', now + tonumber(ARGV[2])), 'inflight', '0')
if redis.call('HGET', KEYS[1], 'doubt') == '1' then return 'doubt' end
return 'fresh'
"""

# Before a create request: still ours? mark it in flight, count it, renew the lease.
_BEGIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'sending' or redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then
  return -1
end
redis.call('HSETNX', KEYS[1], 'first_attempt_at', string.format('%d', now))
redis.call('HSET', KEYS[1], 'inflight', '1', 'lease_until', string.format('%d', now + tonumber(ARGV[2])))
return redis.call('HINCRBY', KEYS[1], 'attempts', 1)
"""

# Right before the request leaves (after the rate wait): still ours? renew the lease.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'sending' or redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'lease_until', string.format('%d', now + tonumber(ARGV[2])))
return 1
"""

# After an answer that did not create a message, or a search that found none.
_SETTLE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'inflight', '0', 'doubt', ARGV[2], 'error_code', ARGV[3], 'error', ARGV[4])
return 1
"""

# Hand a recipient back (pending) to be tried again no earlier than ARGV[2] seconds from now.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'sending' or redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'pending', 'inflight', '0',
           'not_before', string.format('%d', now + math.floor(tonumber(ARGV[2]) * 1000000)))
return 1
"""

# KEYS: recipient, sid map, blast, early status. ARGV: sid, status, "blast number", ttl seconds.
_SENT = """
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'sent' or st == 'failed' or not st then return 0 end
local rank = cjson.decode(ARGV[5])
local status = ARGV[2]
local early = redis.call('GET', KEYS[4])
if early and (rank[early] or 0) > (rank[status] or 0) then status = early end
redis.call('HSET', KEYS[1], 'state', 'sent', 'sid', ARGV[1], 'status', status, 'inflight', '0', 'doubt', '0')
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('HINCRBY', KEYS[3], 'done', 1)
redis.call('HINCRBY', KEYS[3], 'sent', 1)
return 1
"""

_FAILED = """
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'sent' or st == 'failed' or not st then return 0 end
redis.call('HSET', KEYS[1], 'state', 'failed', 'error_code', ARGV[1], 'error', ARGV[2], 'inflight', '0')
redis.call('HINCRBY', KEYS[2], 'done', 1)
redis.call('HINCRBY', KEYS[2], 'failed', 1)
return 1
"""

# KEYS: recipient, or early-status key and SID map (ARGV[3] == 'early'). Moves the status forward
# only. Early: -1 when the SID was recorded meanwhile (the caller goes to the recipient instead).
_STATUS = """
local rank = cjson.decode(ARGV[2])
local new = rank[ARGV[1]] or 0
if ARGV[3] == 'early' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
  local cur = redis.call('GET', KEYS[1])
  if cur and (rank[cur] or 0) >= new then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400)
  return 1
end
local cur = redis.call('HGET', KEYS[1], 'status')
if cur and (rank[cur] or 0) >= new then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'status_error', ARGV[4]) end
return 1
"""


class BlastStore:
    """Reads and changes blasts and their recipients; every change is one atomic script."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self._scripts = {name: redis.register_script(src) for name, src in (
            ("create", _CREATE), ("claim", _CLAIM), ("begin", _BEGIN), ("renew", _RENEW), ("settle", _SETTLE),
            ("release", _RELEASE), ("sent", _SENT), ("failed", _FAILED), ("status", _STATUS))}

    # -- creating and reading ----------------------------------------------------------------
    def create(self, blast: Blast, numbers: list[str]) -> bool:
        """Store a blast and its recipients (each number once) unless it exists.

        Returns True when created, False when a blast with this id was already there (so a
        repeated command or job never starts a second copy).
        """
        meta = {
            "id": blast.id, "body": blast.body, "sender_from": blast.sender_from or "",
            "messaging_service_sid": blast.messaging_service_sid or "", "rate": blast.rate,
            "status_callback": blast.status_callback or "", "outage_id": blast.outage_id, "kind": blast.kind,
        }
        unique = list(dict.fromkeys(numbers))
        created = self._scripts["create"](
            keys=[keys.blast(blast.id), keys.blast_recipients(blast.id), keys.blasts_active()],
            args=[json.dumps(meta), blast.id, *unique])
        return bool(created)

    def get(self, blast_id: str) -> Blast | None:
        """Return the blast, or None when there is no blast with this id."""
        raw = self.redis.hgetall(keys.blast(blast_id))
        if not raw:
            return None
        d = {_t(k): _t(v) for k, v in raw.items()}
        return Blast(id=d["id"], body=d["body"], sender_from=d["sender_from"] or None,
                     messaging_service_sid=d["messaging_service_sid"] or None, rate=float(d["rate"]),
                     status_callback=d["status_callback"] or None, outage_id=d["outage_id"],
                     kind=d["kind"], total=int(d.get("total", 0)))

    def progress(self, blast_id: str) -> dict[str, int]:
        """Return counters {total, done, sent, failed} of a blast (zeros when unknown)."""
        vals = self.redis.hmget(keys.blast(blast_id), "total", "done", "sent", "failed")
        return dict(zip(("total", "done", "sent", "failed"), (int(v or 0) for v in vals)))

    def numbers(self, blast_id: str) -> list[str]:
        """Return the blast's recipient numbers in sending order."""
        return [_t(n) for n in self.redis.lrange(keys.blast_recipients(blast_id), 0, -1)]

    def recipient(self, blast_id: str, number: str) -> dict[str, str]:
        """Return one recipient's fields as text (empty dict when unknown)."""
        raw = self.redis.hgetall(keys.blast_recipient(blast_id, number))
        return {_t(k): _t(v) for k, v in raw.items()}

    def recipients(self, blast_id: str) -> list[dict[str, str]]:
        """Return every recipient's fields plus `to`, in sending order (one pipeline round trip)."""
        numbers = self.numbers(blast_id)
        pipe = self.redis.pipeline(transaction=False)
        for n in numbers:
            pipe.hgetall(keys.blast_recipient(blast_id, n))
        out = []
        for n, raw in zip(numbers, pipe.execute()):
            out.append({"to": n, **{_t(k): _t(v) for k, v in raw.items()}})
        return out

    def finish(self, blast_id: str) -> None:
        """Take a blast off the active set (all recipients sent or failed)."""
        self.redis.srem(keys.blasts_active(), blast_id)

    def is_active(self, blast_id: str) -> bool:
        """Return True when the blast exists and is not finished yet."""
        return bool(self.redis.sismember(keys.blasts_active(), blast_id))

    def active(self) -> list[str]:
        """Return ids of blasts not yet finished."""
        return sorted(_t(b) for b in self.redis.smembers(keys.blasts_active()))

    # -- one recipient's state machine ---------------------------------------------------------
    def claim(self, blast_id: str, number: str, token: str, lease: float) -> Claim:
        """Try to own a recipient for `lease` seconds; returns what was found (see Claim)."""
        found = self._scripts["claim"](keys=[keys.blast_recipient(blast_id, number)],
                                       args=[token, int(lease * 1_000_000)])
        return Claim(_t(found))

    def begin_attempt(self, blast_id: str, number: str, token: str, lease: float) -> int:
        """Mark a create request as in flight; returns the attempt number, or -1 if no longer ours."""
        return int(self._scripts["begin"](keys=[keys.blast_recipient(blast_id, number)],
                                          args=[token, int(lease * 1_000_000)]))

    def renew(self, blast_id: str, number: str, token: str, lease: float) -> bool:
        """Extend our lease by `lease` seconds from now; False if the recipient is no longer ours."""
        return bool(self._scripts["renew"](keys=[keys.blast_recipient(blast_id, number)],
                                           args=[token, int(lease * 1_000_000)]))

    def settle(self, blast_id: str, number: str, token: str, doubt: bool, code: object = "", error: str = "") -> None:
        """Record that the last request's answer is known: `doubt` if it may have created a message."""
        self._scripts["settle"](keys=[keys.blast_recipient(blast_id, number)],
                                args=[token, "1" if doubt else "0", str(code or ""), error[:200]])

    def release(self, blast_id: str, number: str, token: str, retry_in: float) -> bool:
        """Hand a recipient back as pending, claimable again after `retry_in` seconds."""
        return bool(self._scripts["release"](keys=[keys.blast_recipient(blast_id, number)],
                                             args=[token, retry_in]))

    def mark_sent(self, blast_id: str, number: str, sid: str, status: str, keep_days: int) -> bool:
        """Record the SID Twilio gave; returns False if the recipient was already finished."""
        return bool(self._scripts["sent"](
            keys=[keys.blast_recipient(blast_id, number), keys.sms_sid(sid), keys.blast(blast_id),
                  keys.sms_early_status(sid)],
            args=[sid, status or "queued", f"{blast_id} {number}", keep_days * 86400, json.dumps(STATUS_RANK)]))

    def mark_failed(self, blast_id: str, number: str, code: object, error: str) -> bool:
        """Record a permanent failure; returns False if the recipient was already finished."""
        return bool(self._scripts["failed"](
            keys=[keys.blast_recipient(blast_id, number), keys.blast(blast_id)],
            args=[str(code or ""), error[:200]]))

    def kind_of_message(self, sid: str) -> str | None:
        """Return the kind of the blast a recorded message SID belongs to, or None."""
        owner = self.redis.get(keys.sms_sid(sid))
        blast = self.get(_t(owner).split(" ", 1)[0]) if owner else None
        return blast.kind if blast else None

    def sid_taken(self, sid: str) -> bool:
        """Return True when `sid` is already recorded for some recipient of some blast."""
        return bool(self.redis.exists(keys.sms_sid(sid)))

    # -- delivery receipts ---------------------------------------------------------------------
    def record_status(self, sid: str, status: str, error_code: str = "") -> bool:
        """Move a message's status forward (never back); returns True when something changed.

        A receipt for a SID not recorded yet (it can beat the worker's write) is kept for a day
        and merged when the SID is recorded.
        """
        owner = self.redis.get(keys.sms_sid(sid))
        rank = json.dumps(STATUS_RANK)
        if owner is None:
            # Parked only if the SID is still unrecorded (atomically): mark_sent merges what is parked.
            kept = self._scripts["status"](keys=[keys.sms_early_status(sid), keys.sms_sid(sid)],
                                           args=[status, rank, "early", ""])
            if int(kept) >= 0:
                return bool(kept)
            owner = self.redis.get(keys.sms_sid(sid))  # recorded meanwhile: set it on the recipient
        blast_id, number = _t(owner).split(" ", 1)
        return bool(self._scripts["status"](keys=[keys.blast_recipient(blast_id, number)],
                                            args=[status, rank, "", error_code or ""]))
