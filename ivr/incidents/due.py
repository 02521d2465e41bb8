"""Calls whose incident is due to be settled: the marks the voice webhooks leave, and the pump in
`hotline worker` that turns them into RQ `settle` jobs (ivr.incidents.jobs).

A webhook that logs a call's outcome leaves a mark in the sorted set keys.settle_due() in the same
script call that writes the event (ivr.calls.append.follow_up), so the webhook makes no round trip
of its own for it and a mark exists exactly when its event does (also through the spool while Redis
is down). A mark's score is when the settling is due: the event's moment, or later when a caller may
still leave a message. The member is JSON: {"sid", "event", "final", "caller", "caller_name",
"snap"}, the snapshot of the hotline the call ran under (ivr.incidents.jobs.snapshot) with the
caller left out; "event" (the event's id) keeps two marks of one call apart.

The pump claims due marks for a lease (their score moves LEASE seconds on), enqueues `settle` for
each and then removes them. A pump that dies between the two leaves marks that another pump claims
when the lease is over: a call may be settled twice then, which settling allows (it numbers and pages
once), but never not at all. Claiming a call's end mark also counts the ended call in /metrics
(ivr.metrics.ended), once.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time

from redis import Redis, RedisError

from ivr import keys
from ivr.calls.event_json import EncodedStr, string_literal
from ivr.calls.events import END_ID
from ivr.hotline import Hotline
from ivr.incidents.model import GREETING
from ivr.kept import KeptPerObject
from ivr.metrics.ended import count_end

log = logging.getLogger(__name__)

LEASE = 60.0       # seconds a claimed mark is left to its pump before another may claim it
EVERY = 0.25       # seconds between the pump's looks
BATCH = 100        # marks claimed per look at most
VOICEMAIL_WAIT = 180 + 60  # the longest message (ivr.voice.render) and a margin: then the call is over

# KEYS[1] the set; ARGV: now, now + lease, batch. Returns the members due, now leased.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], member) end
return due
"""


def settle_when(ev: dict) -> tuple[float, bool] | None:
    """Return (delay in seconds, final) for settling after event `ev`, or None when the event
    does not settle the call (the fallback <Dial>'s result or the call's end decides then)."""
    kind = ev.get("type")
    if kind == "outcome":
        outcome = ev.get("outcome")
        if outcome in ("fallback", "error"):
            return None
        if outcome == "no_answer" and str(ev.get("detail") or "").startswith(GREETING):
            return VOICEMAIL_WAIT, True  # a message may still come; if not, settle later
        return 0.0, False
    if kind == "attempt":
        return (0.0, False) if ev.get("step") == "fallback" else None
    if kind == "end":
        return 0.0, False
    return None


_snapshots = KeptPerObject(64)  # per hotline object and base URL: (snapshot JSON without the caller,
                                # site names, the snapshot JSON escaped as in a JSON string)


def _snapshot_of(hotline: Hotline, base_url: str) -> tuple[str, dict[str, str], str]:
    from ivr.incidents.jobs import snapshot

    snap = json.dumps(snapshot(hotline, "", base_url), ensure_ascii=False, separators=(",", ":"))
    return snap, {site.number: site.name for site in hotline.all_sites()}, string_literal(snap)[1:-1]


def mark(hotline: Hotline, ev: dict, at: dt.datetime, caller: str, base_url: str) -> tuple[str, float, str] | None:
    """Return the follow-up (key, due epoch second, member) that settles the call of event `ev`
    (logged at `at`), or None when this event does not settle it. `caller`: a valid E.164 number or ''."""
    when = settle_when(ev)
    if when is None:
        return None
    delay, final = when
    snap, names, snap_escaped = _snapshots.get(base_url, lambda: _snapshot_of(hotline, base_url), hotline)
    # as json.dumps writes each value (ASCII-escaped but the name), without an encoder per call
    head = (f'{{"sid":{_ascii_literal(ev["sid"])},"event":{_ascii_literal(ev["id"])},'
            f'"final":{"true" if final else "false"},"caller":{_ascii_literal(caller)},'
            f'"caller_name":{string_literal(names.get(caller, ""))},"snap":')
    # the member, with its JSON string literal (the journal's form of it) from the kept snapshot's
    member = EncodedStr(head + snap + "}", string_literal(head)[:-1] + snap_escaped + '}"')
    return keys.settle_due(), at.timestamp() + delay, member


def _ascii_literal(text: str) -> str:
    """Return json.dumps(text) for a str (json.dumps turns anything else into its own text)."""
    return json.encoder.encode_basestring_ascii(text) if type(text) is str else json.dumps(text)


def job_of(member: str | bytes) -> tuple[dict, str, bool]:
    """Return (snapshot, call sid, final) of a mark: the arguments of `settle`. Raises ValueError
    (UnicodeDecodeError among them), KeyError or TypeError for a malformed one."""
    return _job(_decoded(member))


def _decoded(member: str | bytes):
    """Return a mark's JSON decoded; raises ValueError (UnicodeDecodeError among them)."""
    return json.loads(member.decode() if isinstance(member, bytes) else member)


def _job(data: dict) -> tuple[dict, str, bool]:
    snap = dict(data["snap"])
    snap["caller"], snap["caller_name"] = data.get("caller") or "", data.get("caller_name") or ""
    return snap, str(data["sid"]), bool(data.get("final"))


def claim(redis: Redis, now: float, lease: float = LEASE, batch: int = BATCH) -> list[str | bytes]:
    """Return up to `batch` marks due at `now` (epoch seconds), leased to the caller until
    now + lease, as the client gives them (text, or bytes without decode_responses). Raises redis errors."""
    return redis.eval(_CLAIM, 1, keys.settle_due(), repr(float(now)), repr(float(now + lease)), batch)


def pump_once(redis: Redis, now: float | None = None) -> int:
    """Enqueue `settle` for every mark due at `now` (epoch seconds; default the clock) and remove
    them; returns how many were enqueued. A malformed mark is logged and removed. Raises redis
    errors (the marks not yet removed are claimed again when their lease is over)."""
    from ivr.incidents.jobs import enqueue_settle

    moment = time.time() if now is None else now
    count = 0
    while True:
        members = claim(redis, moment)
        for member in members:
            try:
                data = _decoded(member)
                snap, sid, final = _job(data)
            except (ValueError, KeyError, TypeError, AttributeError):
                log.error("dropping a malformed settle mark: %.200r", member)
            else:
                enqueue_settle(redis, snap, sid, 0.0, final)
                count += 1
                if data.get("event") == END_ID:
                    count_end(redis, str(snap.get("line") or ""), sid)
            redis.zrem(keys.settle_due(), member)
        if len(members) < BATCH:
            return count


def waiting(redis: Redis, now: float | None = None) -> tuple[int, float]:
    """Return (marks due at `now`, seconds the oldest of them is overdue; 0 when none). Raises redis errors."""
    moment = time.time() if now is None else now
    oldest = redis.zrangebyscore(keys.settle_due(), "-inf", repr(float(moment)), start=0, num=1, withscores=True)
    if not oldest:
        return 0, 0.0
    return int(redis.zcount(keys.settle_due(), "-inf", repr(float(moment)))), max(0.0, moment - oldest[0][1])


def run_pump(redis: Redis, stop: threading.Event, every: float = EVERY) -> None:
    """Pump marks every `every` seconds until `stop` is set. Redis trouble is logged (once per
    stretch), any other error with its traceback, and the pump goes on: missed calls depend on it."""
    failing = False
    while not stop.is_set():
        try:
            count = pump_once(redis)
        except RedisError as exc:
            if not failing:
                log.warning("settle marks: Redis failed (%s); trying again", exc)
            failing = True
            stop.wait(1.0)
            continue
        except Exception:  # noqa: BLE001 - a dead pump would settle no call again
            log.exception("settle marks: the pump failed; trying again")
            stop.wait(1.0)
            continue
        if failing:
            log.info("settle marks: Redis answers again")
            failing = False
        if count:
            log.info("enqueued settle for %d call(s)", count)
        stop.wait(every)


def start_pump(redis: Redis, every: float = EVERY) -> tuple[threading.Thread, threading.Event]:
    """Start `run_pump` on a daemon thread; returns (thread, its stop event)."""
    stop = threading.Event()
    thread = threading.Thread(target=run_pump, args=(redis, stop, every), name="hotline-settle-pump", daemon=True)
    thread.start()
    return thread, stop
