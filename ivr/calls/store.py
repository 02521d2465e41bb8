"""CallStore: call events into Redis, atomically de-duplicated; a local spool when Redis is down.

Calls never wait on a dead Redis for long: the web app's client passes the gate (ivr.calls.gate:
short timeouts, no retries, a breaker that skips Redis for a pause after a failure), and events
that cannot be written go to the spool. A flusher thread per process replays the spool when Redis
answers again, off the call path (ivr.calls.replay; the spool itself: ivr.calls.spool).
A webhook's events are written behind (ivr.calls.behind, `commit_batch(behind=True)`): journaled,
then written by the process's write-behind flusher; journals of processes that died are moved into
the spool by the spool's flusher (ivr.calls.journal.adopt_orphans).
`on_replayed(event)`, when set (the app sets it), is called for each event written off the request
(replayed from the spool, or written behind) that was new to Redis, as a live write's caller
would act on it (an exception there is logged, never raised).
`mark_replayed(event) -> event`, when set, gives a spooled event without a follow-up (see
ivr.calls.append.follow_up; spooled by an older version) the one it would get now.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ivr import keys
from ivr.calls.append import APPEND, DAY, FOLLOW, UNKNOWN_LINE, append_arguments, index_line, writable  # noqa: F401 - re-exported
from ivr.calls.behind import WriteBehind
from ivr.calls.events import accepted_steps, fold, frozen_decision
from ivr.calls.forksafe import renew_after_fork
from ivr.calls.gate import Breaker, GateClosed, background_client, breaker_of, run_command, run_script
from ivr.calls.journal import Journal, journal_dir
from ivr.calls.listing import RecentCalls
from ivr.calls.replay import SpoolReplay
from ivr.calls.spool import Spool, valid_sid

log = logging.getLogger(__name__)

SPOOL_LOOK = 0.2   # seconds between the writers' looks at the spool (see CallStore._wake_if_spooled)

def connect_redis(url: str | None) -> redis.Redis | None:
    """Return a Redis client for `url` tuned for phone calls (short timeouts, one quick retry).

    Returns None when `url` is empty. Connecting is lazy: nothing is raised here.
    """
    if not url:
        return None
    return redis.Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=1.0,
        retry=Retry(NoBackoff(), 1), health_check_interval=0, decode_responses=True,
    )


class CallStore(SpoolReplay, RecentCalls):
    """Reads and writes call events. `redis` None means spool only (development without Redis).
    `write_behind` False: webhooks' events are written before they answer, never behind."""

    def __init__(self, client: redis.Redis | None, spool: Spool, pause: float = 2.0, write_behind: bool = True):
        self.redis = client
        self._background = background_client(client)   # the flusher's and the replay's writes
        self.spool = spool
        self.breaker = breaker_of(client) or Breaker(pause)
        self._lock = threading.Lock()
        self._script = client.register_script(APPEND) if client is not None else None
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._flusher: threading.Thread | None = None
        # Observers (e.g. metrics): called with each new event, and with each Redis error.
        self.on_event: list[Callable[[dict], None]] = []
        self.on_redis_failure: list[Callable[[Exception], None]] = []
        self._batch = threading.local()  # per request thread: events waiting for commit_batch
        self._spool_looked = 0.0
        self.on_replayed: Callable[[dict], None] | None = None
        self.mark_replayed: Callable[[dict], dict] | None = None
        self._closed = False
        self.behind = (WriteBehind(self._write_behind, Journal(journal_dir(self.spool.dir)),
                                   park=self._spool_items)
                       if client is not None and write_behind else None)
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self._lock, self._start_lock, self._flusher = threading.Lock(), threading.Lock(), None

    # -- health -------------------------------------------------------------------------------
    def available(self) -> bool:
        """Return True when Redis is configured and its breaker would let a command through."""
        return self.redis is not None and not self.breaker.is_open()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, GateClosed):
            return  # skipped, not failed: the breaker is open already, or one request's time is up
        _notify(self.on_redis_failure, exc)
        if not self.breaker.is_open():
            log.warning("Redis unreachable (%s); call events go to the spool %s", exc, self.spool.dir)
        self.breaker.failed(exc)

    # -- writing ------------------------------------------------------------------------------
    def add(self, ev: dict, ttl_days: int, index_ts: float | None = None, spool_only: bool = False) -> bool:
        """Record one event; returns False when an event with the same id was already there.

        Inside a batch (`begin_batch`), the event waits for `commit_batch` and True means only that
        the batch did not hold it yet. Redis down (or `spool_only`): the event is spooled (True
        unless the spool already has it) and replayed into Redis later by the flusher thread.
        Never raises for Redis trouble; raises OSError only when Redis AND the spool fail.
        """
        pending = getattr(self._batch, "pending", None)
        if pending is not None and not spool_only:
            if any(old["sid"] == ev["sid"] and old["id"] == ev["id"] for old, _, _ in pending):
                return False
            pending.append((ev, ttl_days, index_ts))
            return True
        return self._add_now([(ev, ttl_days, index_ts)], spool_only)[0]

    def _add_now(self, items: list[tuple[dict, int, float | None]], spool_only: bool = False) -> list[bool]:
        """Write events with one script call (Redis) or to the spool; returns added-or-duplicate per
        event."""
        added, _ = self._write_or_spool(items, spool_only)
        if spool_only:
            self._wake.set()
        return added

    def _write_or_spool(self, items: list[tuple[dict, int, float | None]], spool_only: bool = False,
                        texts: list[str] | None = None, background: bool = False) -> tuple[list[bool], bool]:
        """Write events with one script call, else (Redis down, or `spool_only`) spool them, and
        tell the observers of the new ones; returns (added-or-duplicate per event, True when Redis
        took them). `texts`: see `_write_many`. `background`: written by a thread no caller waits
        on, which may wait longer for Redis (ivr.calls.gate.background_client). Raises OSError only
        when Redis AND the spool fail."""
        self._ensure_flusher()
        if not spool_only and self.available():
            try:
                added = self._write_many(items, texts, self._background if background else self.redis)
            except redis.RedisError as exc:
                self._failed(exc)
            else:
                try:   # Redis took the events: nothing from here on may have them written again
                    self._wake_if_spooled()
                except OSError:
                    log.exception("could not look at the spool %s", self.spool.dir)
                self._observe(items, added)
                return added, True
        added = self._spool_items(items)
        self._observe(items, added)
        return added, False

    def _spool_items(self, items: list[tuple[dict, int, float | None]]) -> list[bool]:
        """Spool events (those not spooled yet); returns added-or-duplicate per event. Raises OSError."""
        out = []
        for ev, ttl_days, index_ts in items:
            if any(old.get("id") == ev["id"] for old in self.spool.events(ev["sid"])):
                out.append(False)
                continue
            self.spool.append({**ev, "_ttl_days": ttl_days, "_index_ts": index_ts})
            out.append(True)
        return out

    # -- written behind (ivr.calls.behind) ------------------------------------------------------
    def _write_behind(self, items: list[tuple[dict, int, float | None]], texts: list[str]) -> None:
        """The write-behind flusher's write of a batch (several webhooks' events): Redis, else the
        spool; then the observers, and `on_replayed` for the events Redis found new (those that
        went to the spool get it when replayed). Raises OSError when Redis AND the spool fail."""
        added, in_redis = self._write_or_spool(items, texts=texts, background=True)
        if in_redis:
            for (ev, _, _), new in zip(items, added):
                if new:
                    self._new_in_redis(ev)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until this process's events written behind are in Redis (or the spool); returns
        False on timeout. For tests and for tools that read right after a webhook."""
        return self.behind is None or self.behind.settle(timeout)

    def _wake_if_spooled(self) -> None:
        """Wake the flusher when the spool holds files (Redis just took a write, so it may be back),
        looking at most every SPOOL_LOOK seconds: the flusher looks by itself every second."""
        now = time.monotonic()
        if now - self._spool_looked >= SPOOL_LOOK:
            self._spool_looked = now
            if self.spool.has_pending():
                self._wake.set()

    def _observe(self, items: list[tuple[dict, int, float | None]], added: list[bool]) -> None:
        """Tell the observers (on_event) of each event that was new."""
        if self.on_event:
            for (ev, _, _), new in zip(items, added):
                if new:
                    _notify(self.on_event, ev)

    # -- one webhook's events: one round trip ------------------------------------------------
    def batching(self) -> bool:
        """Return True while this thread's events wait for `commit_batch`."""
        return getattr(self._batch, "pending", None) is not None

    def begin_batch(self) -> None:
        """From now on this thread's events wait for `commit_batch` (written with one script call),
        and `events()` asks Redis once per call and adds the waiting events."""
        self._batch.pending = []
        self._batch.read = {}

    def commit_batch(self, behind: bool = False) -> list[tuple[dict, bool]]:
        """Write this thread's waiting events (Redis, else the spool); returns (event, added) pairs.

        `behind`: hand them to the write-behind instead (journaled now, written by its flusher,
        which runs `on_replayed` for those Redis finds new); returns []. Without a write-behind, or
        when its journal refuses, they are written now.
        Never raises for Redis trouble (the events are spooled); raises OSError only when Redis
        AND the spool fail. Batching goes on until `end_batch`.
        """
        items = getattr(self._batch, "pending", None)
        if not items:
            return []
        self._batch.pending = []
        self._batch.read = {}
        if behind and self.behind is not None:
            try:
                self.behind.submit(items)
            except OSError as exc:
                self.behind.refused_once(exc)
            else:
                return []
        added = self._add_now(items)
        for (ev, _, _), new in zip(items, added):
            if not new:
                log.info("call %s: event %s was recorded before (a repeated callback)", ev["sid"], ev["id"])
        return [(ev, new) for (ev, _, _), new in zip(items, added)]

    def end_batch(self) -> None:
        """Commit what still waits (logged, never raised) and stop batching on this thread."""
        try:
            self.commit_batch()
        except Exception:  # noqa: BLE001 - the end of a request must not fail
            log.exception("could not record the call events of a request")
        finally:
            self._batch.pending = None
            self._batch.read = None

    def _write(self, ev: dict, ttl_days: int, index_ts: float | None) -> bool:
        """The spool replay's write of one event (off the call path); returns False for a repeat.
        Raises redis.RedisError."""
        return self._write_many([(ev, ttl_days, index_ts)], None, self._background)[0]

    def _write_many(self, items: list[tuple[dict, int, float | None]], texts: list[str] | None,
                    client: redis.Redis) -> list[bool]:
        """Write events with one script call on `client`; returns added-or-duplicate per event.
        `texts`: the events' JSON, already encoded. Raises redis.RedisError."""
        try:
            script_keys, args = append_arguments(items, texts)
        except (TypeError, ValueError, OverflowError):
            items = self._writable(items)   # one malformed event must not hold up the others
            script_keys, args = append_arguments(items, texts)
        return [bool(a) for a in run_script(client, self._script, script_keys, args)]

    @staticmethod
    def _writable(items: list[tuple[dict, int, float | None]]) -> list[tuple[dict, int, float | None]]:
        """Return `items` with what keeps each from being written taken out (ivr.calls.append.writable),
        logged as an error per event."""
        out = []
        for item in items:
            fixed, problems = writable(item)
            if problems:
                log.error("call %s: event %s is written as far as it can be: %s", fixed[0].get("sid"),
                          fixed[0].get("id"), "; ".join(problems))
            out.append(fixed)
        return out

    # -- reading ------------------------------------------------------------------------------
    def events(self, sid: str) -> list[dict]:
        """Return a call's events from Redis (when reachable), the spool and this thread's batch.

        Inside a batch, Redis is asked once per call (the answer is kept until the next commit)."""
        if not valid_sid(sid):
            return []
        # What waits behind first, then the spool, then Redis: the write-behind flusher stops
        # counting an event as waiting only after Redis or the spool took it, and the spool's
        # flusher writes an event to Redis before it deletes its file, so a move between two reads
        # leaves the event in one of them (or both: fold drops repeats). A kept answer holds what
        # waited when Redis was read.
        before = self._behind(sid)
        spooled = self.spool.events(sid)
        read = getattr(self._batch, "read", None)
        found: list[dict] | None = read.get(sid) if read is not None else None
        if found is None:
            found = []
            if self.available():
                try:
                    found = [json.loads(raw) for raw in run_command(self.redis, "LRANGE", keys.call_events(sid), 0, -1)]
                    if read is not None:
                        read[sid] = _joined(found, before)
                except redis.RedisError as exc:
                    self._failed(exc)
        waiting = [ev for ev, _, _ in getattr(self._batch, "pending", None) or () if ev["sid"] == sid]
        return _joined(found + spooled, before + self._behind(sid)) + waiting

    def _behind(self, sid: str) -> list[dict]:
        """Return call `sid`'s events waiting in this process's write-behind (oldest first)."""
        return self.behind.pending(sid) if self.behind is not None else []

    def record(self, sid: str) -> dict | None:
        """Return the folded record of a call, or None when nothing is known about it."""
        events = self.events(sid)
        return fold(sid, events) if events else None

    def decision(self, sid: str, line: str) -> dict | None:
        """Return the decision frozen for this call on hotline `line` when its service was reached, or None."""
        return frozen_decision(self.events(sid), line)

    def accepted(self, sid: str, line: str) -> dict[int, str]:
        """Return {step: number} of screened steps on hotline `line` whose callee pressed 1."""
        return accepted_steps(self.events(sid), line)


def _joined(events: list[dict], more: list[dict]) -> list[dict]:
    """Return `events` followed by those of `more` whose id is in neither (first of each kept)."""
    seen = {ev.get("id") for ev in events}
    out = list(events)
    for ev in more:
        if ev.get("id") not in seen:
            seen.add(ev.get("id"))
            out.append(ev)
    return out


def _notify(observers: list, value) -> None:
    for observer in list(observers):
        try:
            observer(value)
        except Exception:  # noqa: BLE001 - an observer never breaks a call
            log.exception("call store observer %r failed", observer)
