"""Ended calls, counted once each by the settle pump of `hotline worker` (ivr.incidents.due).

`hotline_calls_total` is labelled with the call's service, route kind and outcome, which only
the call's whole log tells. The pump counts a call when it claims the mark its end event left
(the status callback's): the log is read then, in the pump's process, instead of by the web
process that took the status callback, which would read it back and fold it on that webhook's
flusher. The pump also reads it later, so a dial result that reached Redis just after the status
callback (from another web process) is in the fold.

Once: the script sets keys.call_counted(sid) (SET NX) and reads the log in the same call; a mark
claimed again after a lease, or a second pump, finds the key set and counts nothing. No Flask here.
"""
from __future__ import annotations

import json
import logging

from redis import Redis

from ivr import keys, metrics
from ivr.calls.events import fold

log = logging.getLogger(__name__)

COUNTED_KEPT = 2 * 86400   # seconds the "counted" key lives: far past a lease's or a callback's repeat

# KEYS: the call's "counted" key, its events. ARGV: seconds the first lives.
# Returns the call's log when this call of the script set the key, else nil.
_COUNT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('LRANGE', KEYS[2], 0, -1)
end
return false
"""


def count_ended(redis: Redis, line: str, sid: str) -> bool:
    """Count call `sid` of hotline `line` in hotline_calls_total unless it was counted already;
    returns True when this counted it. Raises redis errors (then nothing was counted)."""
    log_now = redis.eval(_COUNT_ONCE, 2, keys.call_counted(sid), keys.call_events(sid), COUNTED_KEPT)
    if log_now is None:
        return False
    events = []
    for raw in log_now:
        try:
            events.append(json.loads(raw))
        except ValueError:
            log.error("call %s: its log holds an entry that is not JSON", sid)
    metrics.call_ended(line, fold(sid, events) if events else {})
    return True
