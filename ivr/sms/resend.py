"""Send a blast again to its recipients that gave up (`failed` with code `gave_up`), once each.

One Lua script moves every such recipient back to `pending` (attempts from 0, a `resends` counter,
who and when) and takes them off the blast's done/failed counts, so two resends, run one after the
other or at the same moment, never move a recipient twice: the second finds nobody to move. The
moved recipients are then enqueued like a first send, and the per-recipient state machine
(ivr.sms.blast: claims with leases, the search before sending again when in doubt) keeps each at one
message. Permanent refusals (21211, 21610, ...) are not resent: Twilio would refuse them again.
"""
from __future__ import annotations

import datetime as dt
import json

from redis import Redis

from ivr import keys
from ivr.sms.blast import BlastStore
from ivr.sms.jobs import enqueue_batches, queue, watch_blast
from ivr.sms.settings import SmsSettings

GAVE_UP = "gave_up"

# KEYS: blast hash, recipient list, active set, resend log. ARGV: blast id, at (ISO), by.
# Returns the numbers moved back to pending.
_RESEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local moved = {}
for _, n in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local key = KEYS[2] .. ':' .. n
  if redis.call('HGET', key, 'state') == 'failed' and redis.call('HGET', key, 'error_code') == 'gave_up' then
    redis.call('HSET', key, 'state', 'pending', 'attempts', 0, 'inflight', '0', 'not_before', 0,
               'error_code', '', 'error', '', 'resent_at', ARGV[2], 'resent_by', ARGV[3])
    redis.call('HINCRBY', key, 'resends', 1)
    moved[#moved + 1] = n
  end
end
if #moved > 0 then
  redis.call('HINCRBY', KEYS[1], 'done', -#moved)
  redis.call('HINCRBY', KEYS[1], 'failed', -#moved)
  redis.call('HINCRBY', KEYS[1], 'resends', 1)
  redis.call('HSET', KEYS[1], 'last_resent_at', ARGV[2], 'last_resent_by', ARGV[3])
  redis.call('RPUSH', KEYS[4], cjson.encode({at = ARGV[2], by = ARGV[3], recipients = #moved}))
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 then redis.call('EXPIRE', KEYS[4], ttl) end  -- a restored outage's blast: kept as long
  redis.call('SADD', KEYS[3], ARGV[1])
end
return moved
"""


def resend_gave_up(redis: Redis, blast_id: str, by: str, at: dt.datetime,
                   settings: SmsSettings | None = None) -> list[str]:
    """Queue `blast_id` again for its recipients that gave up; returns their numbers (each once
    over any number of concurrent calls). Raises redis errors.

    While the blast is unfinished a watchdog look is scheduled too, so a resend that died between
    the move and the enqueue is completed by running it again (as start_blast does).
    """
    settings = settings or SmsSettings.from_env()
    script = redis.register_script(_RESEND)
    found = script(keys=[keys.blast(blast_id), keys.blast_recipients(blast_id), keys.blasts_active(),
                         keys.blast_resends(blast_id)],
                   args=[blast_id, at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"), by])
    moved = [n.decode() if isinstance(n, bytes) else str(n) for n in found]
    if moved:
        enqueue_batches(redis, blast_id, moved, settings)
    if BlastStore(redis).is_active(blast_id):
        queue(redis).enqueue_in(dt.timedelta(seconds=settings.watch), watch_blast, blast_id, -2, result_ttl=0)
    return moved


def resends(redis: Redis, blast_id: str) -> list[dict]:
    """Return a blast's resends, oldest first: [{"at", "by", "recipients"}]."""
    return [json.loads(raw) for raw in redis.lrange(keys.blast_resends(blast_id), 0, -1)]
