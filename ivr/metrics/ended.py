"""Ended calls in /metrics (`hotline_calls_total`): counted once each by the settle pump of
`hotline worker` (ivr.incidents.due), kept in Redis, read when Prometheus scrapes.

`hotline_calls_total` is labelled with the call's service, route kind and outcome, which only the
call's whole log tells. The pump counts a call when it claims the mark its end event left (the
status callback's): it reads the log then, in its own process, instead of the web process that
took the status callback reading it back and folding it on that webhook's flusher; and later, so
a dial result that reached Redis just after the status callback (from another web process) is in
the fold.

The counts are a hash in Redis (keys.calls_ended(): one field per line, service, route and
outcome), so every web process on every host shows the same totals, whichever process or host the
worker counting them runs on, and a restart resets nothing. Once: the script that adds one also
sets keys.call_counted(sid) (SET NX); a mark claimed again after a lease, a second pump, or a
repeated status callback finds it set and adds nothing. No Flask here.
"""
from __future__ import annotations

import json
import logging

from prometheus_client.core import CounterMetricFamily
from redis import Redis, RedisError

from ivr import keys, metrics
from ivr.calls.events import fold

log = logging.getLogger(__name__)

NONE = "none"              # the label value for a call that never reached a service
COUNTED_KEPT = 2 * 86400   # seconds the "counted" key lives: far past a lease's or a callback's repeat
LABELS = ("line", "service", "route", "outcome")

# KEYS: the call's "counted" key, the counts. ARGV: seconds the first lives, the labels' field.
# Returns the field's new count when this call of the script counted the call, else nil.
_COUNT_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
return false
"""


def labels_of(line: str, record: dict) -> tuple[str, str, str, str]:
    """Return the (line, service, route, outcome) labels of an ended call's folded `record`."""
    return (line or "unknown", record.get("service") or NONE, record.get("route") or NONE,
            record.get("outcome") or "unknown")


def count_ended(redis: Redis, line: str, sid: str) -> bool:
    """Count call `sid` of hotline `line` unless it was counted already; returns True when this
    counted it. Raises redis errors (then nothing was counted: a later claim of the mark can)."""
    events = []
    for raw in redis.lrange(keys.call_events(sid), 0, -1):
        try:
            events.append(json.loads(raw))
        except ValueError:
            log.error("call %s: its log holds an entry that is not JSON", sid)
    field = json.dumps(labels_of(line, fold(sid, events) if events else {}), ensure_ascii=False)
    return redis.eval(_COUNT_ONCE, 2, keys.call_counted(sid), keys.calls_ended(), COUNTED_KEPT, field) is not None


def count_end(redis: Redis | None, line: str, sid: str) -> None:
    """Count call `sid` of `line` once (`count_ended`), never raising: a failure is logged, a Redis
    one also counted as a metrics Redis failure (the settle pump goes on settling, the flusher on
    writing). Called by the pump for a claimed end mark, and by the web process's call-log observer
    for the end of a call to a number that is no hotline (line `unknown`: it leaves no mark)."""
    if redis is None:
        return
    try:
        count_ended(redis, line, sid)
    except RedisError as exc:
        metrics.redis_failure("metrics")
        log.warning("call %s: its end could not be counted (%s)", sid, exc)
    except Exception:  # noqa: BLE001 - metrics never hold up settling or writing
        log.exception("call %s: its end could not be counted", sid)


def counts(redis: Redis) -> dict[tuple[str, ...], int]:
    """Return {(line, service, route, outcome): calls ended} as kept in Redis (a malformed field
    is logged and left out). Raises redis errors."""
    out = {}
    for field, value in redis.hgetall(keys.calls_ended()).items():
        try:
            found = tuple(json.loads(field))
            if len(found) != len(LABELS) or not all(isinstance(x, str) for x in found):
                raise ValueError("not four labels")
            out[found] = int(value)
        except (ValueError, TypeError) as exc:
            log.error("metrics: a count of ended calls is malformed (%s): %.200r", exc, field)
    return out


def families(state) -> list[CounterMetricFamily]:
    """Return `hotline_calls_total` for a HotlineState (a source of ivr.metrics.scrape); none when
    it has no Redis or Redis fails (logged: the rest of the scrape goes on)."""
    if state.redis is None:
        return []
    try:
        found = counts(state.redis)
    except RedisError as exc:
        log.warning("metrics: cannot read the counts of ended calls from Redis (%s)", exc)
        return []
    family = CounterMetricFamily("hotline_calls", "Calls that ended, by line, service, route kind and "
                                 "outcome (counted by hotline worker, kept in Redis).", labels=list(LABELS))
    for labels, value in sorted(found.items()):
        family.add_metric(list(labels), value)
    return [family]
