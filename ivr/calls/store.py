"""CallStore: call events into Redis, atomically de-duplicated; a local spool when Redis is down.

Calls never wait on a dead Redis for long: the web app's client passes the gate (ivr.calls.gate:
short timeouts, no retries, a breaker that skips Redis for a pause after a failure), and events
that cannot be written go to the spool. A flusher thread per process (started on first use, again
after a fork) replays the spool when Redis answers again (see ivr.calls.spool), off the call path.
`on_replayed(event)`, when set (the app sets it), is called for each replayed event that was new
to Redis, as a live write's caller would act on it (an exception there is logged, never raised).
`mark_replayed(event) -> event`, when set, gives a spooled event without a follow-up (see
ivr.calls.append.follow_up; spooled by an older version) the one it would get now.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import weakref
from typing import Callable, Iterable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ivr import keys
from ivr.calls.append import APPEND, DAY, FOLLOW, UNKNOWN_LINE, append_arguments, index_line  # noqa: F401 - re-exported
from ivr.calls.events import accepted_steps, fold, frozen_decision
from ivr.calls.forksafe import renew_after_fork
from ivr.calls.gate import Breaker, GateClosed, breaker_of, run_command, run_script
from ivr.calls.spool import Spool, valid_sid

log = logging.getLogger(__name__)

FLUSH_EVERY = 1.0  # seconds between the flusher's looks at the spool
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


class CallStore:
    """Reads and writes call events. `redis` None means spool only (development without Redis)."""

    def __init__(self, client: redis.Redis | None, spool: Spool, pause: float = 2.0):
        self.redis = client
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

    def _add_now(self, items: list[tuple[dict, int, float | None]], spool_only: bool = False,
                 read_back: str | None = None, if_repeated: bool = False) -> list[bool]:
        """Write events with one script call (Redis) or to the spool; returns added-or-duplicate per
        event. `read_back`, `if_repeated`: a CallSid whose log the write brings back (see `commit_batch`)."""
        self._ensure_flusher()
        if not spool_only and self.available():
            try:
                wanted = self._read_back(items, read_back)
                added = self._write_many(items, -wanted if if_repeated else wanted)
            except redis.RedisError as exc:
                self._failed(exc)
            else:
                self._wake_if_spooled()
                self._observe(items, added)
                return added
        out = []
        for ev, ttl_days, index_ts in items:
            if any(old.get("id") == ev["id"] for old in self.spool.events(ev["sid"])):
                out.append(False)
                continue
            self.spool.append({**ev, "_ttl_days": ttl_days, "_index_ts": index_ts})
            out.append(True)
        if spool_only:
            self._wake.set()
        self._observe(items, out)
        return out

    def _wake_if_spooled(self) -> None:
        """Wake the flusher when the spool holds files (Redis just took a write, so it may be back),
        looking at most every SPOOL_LOOK seconds: the flusher looks by itself every FLUSH_EVERY."""
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

    def commit_batch(self, read_back: str | None = None, if_repeated: bool = False) -> list[tuple[dict, bool]]:
        """Write this thread's waiting events (Redis, else the spool); returns (event, added) pairs.

        `read_back`: a CallSid with an event in the batch; the same round trip brings that call's
        log back, and `events(read_back)` answers from it until the next commit. `if_repeated`:
        only when that call's first event in the batch was there already (a repeated post).
        Never raises for Redis trouble (the events are spooled); raises OSError only when Redis
        AND the spool fail. Batching goes on until `end_batch`.
        """
        items = getattr(self._batch, "pending", None)
        if not items:
            return []
        self._batch.pending = []
        self._batch.read = {}
        added = self._add_now(items, read_back=read_back, if_repeated=if_repeated)
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

    def _read_back(self, items: list[tuple[dict, int, float | None]], sid: str | None = None) -> int:
        """Return the number (from 1) of the batch's first event of call `sid`, or of its end event
        when this request's observers will read that call's record (metrics count an ended call
        by its folded record), else 0: the write then brings that call's log back, and the
        request reads it without another round trip (see `events`)."""
        if getattr(self._batch, "read", None) is None:
            return 0
        for n, (ev, _, _) in enumerate(items, 1):
            if (sid is not None and ev["sid"] == sid) or (self.on_event and ev.get("type") == "end"):
                return n
        return 0

    def _write(self, ev: dict, ttl_days: int, index_ts: float | None) -> bool:
        return self._write_many([(ev, ttl_days, index_ts)])[0]

    def _write_many(self, items: list[tuple[dict, int, float | None]], read_back: int = 0) -> list[bool]:
        """Write events with one script call; returns added-or-duplicate per event. With
        `read_back` (an event's number from 1), that call's log as Redis holds it after the write is
        kept in this thread's batch (see `events`); with its negative, only when that event was a
        duplicate. Raises redis.RedisError."""
        script_keys, args = append_arguments(items, read_back)
        flags, log_after = run_script(self.redis, self._script, script_keys, args)
        if read_back > 0 or (read_back < 0 and not flags[-read_back - 1]):
            sid = items[abs(read_back) - 1][0]["sid"]
            self._batch.read[sid] = [json.loads(raw) for raw in log_after]
        return [bool(a) for a in flags]

    def _replay(self, spooled: dict) -> None:
        """Write one spooled event; `spooled` is left as it was (a failed flush puts it back)."""
        ev = dict(spooled)
        ttl_days = ev.pop("_ttl_days", None) or 90
        index_ts = ev.pop("_index_ts", None)
        if FOLLOW not in ev and self.mark_replayed is not None:
            try:
                ev = self.mark_replayed(ev)
            except Exception:  # noqa: BLE001 - the event itself must still reach Redis
                log.exception("mark_replayed failed for event %s of call %s", ev.get("id"), ev.get("sid"))
        if self._write(ev, ttl_days, index_ts) and self.on_replayed is not None:
            try:
                self.on_replayed(ev)
            except Exception:  # noqa: BLE001 - the event is in Redis: the flush goes on
                log.exception("on_replayed failed for event %s of call %s", ev.get("id"), ev.get("sid"))

    def flush(self) -> int:
        """Replay the spool into Redis; returns how many events went in (0 when Redis is down)."""
        if self.redis is None:
            return 0
        with self._lock:
            try:
                return self.spool.flush(self._replay)
            except redis.RedisError as exc:
                self._failed(exc)
                return 0

    def _ensure_flusher(self) -> None:
        """Start this process's flusher thread unless it runs (started lazily: after a fork too)."""
        if self.redis is None or (self._flusher is not None and self._flusher.is_alive()):
            return
        with self._start_lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._wake = threading.Event()
            self._flusher = threading.Thread(target=_flush_loop, args=(weakref.ref(self), self._wake),
                                             name="hotline-spool-flusher", daemon=True)
            self._flusher.start()

    # -- reading ------------------------------------------------------------------------------
    def events(self, sid: str) -> list[dict]:
        """Return a call's events from Redis (when reachable), the spool and this thread's batch.

        Inside a batch, Redis is asked once per call (the answer is kept until the next commit)."""
        if not valid_sid(sid):
            return []
        # The spool first: the flusher writes an event to Redis before it deletes its file, so a
        # flush between the two reads leaves the event in one of them (or both: fold drops repeats).
        spooled = self.spool.events(sid)
        read = getattr(self._batch, "read", None)
        found: list[dict] | None = read.get(sid) if read is not None else None
        if found is None:
            found = []
            if self.available():
                try:
                    found = [json.loads(raw) for raw in run_command(self.redis, "LRANGE", keys.call_events(sid), 0, -1)]
                    if read is not None:
                        read[sid] = found
                except redis.RedisError as exc:
                    self._failed(exc)
        waiting = [ev for ev, _, _ in getattr(self._batch, "pending", None) or () if ev["sid"] == sid]
        return found + spooled + waiting

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

    def recent(self, lines: Iterable[str] | None = None, since: dt.datetime | None = None,
               limit: int = 1000) -> list[dict]:
        """Return records of recent calls, newest first; raises redis.RedisError when Redis is down.

        `lines` None means every line that has an index. Spooled calls not yet in Redis are included,
        read from the spool: the replay is left to the web processes' flusher, which runs the app's
        outcome hooks for what it replays (a missed call logged while Redis was down still pages).
        """
        if self.redis is None:
            return self.spooled(lines, since)
        chosen = list(lines) if lines is not None else sorted(self.redis.smembers(keys.calls_lines()))
        low = since.timestamp() if since else "-inf"
        pairs: list[tuple[float, str]] = []
        for line in chosen:
            pairs.extend((score, sid) for sid, score in
                         self.redis.zrangebyscore(keys.calls_index(line), low, "+inf", withscores=True))
        pairs.sort(reverse=True)
        records = []
        for _, sid in pairs[:limit]:
            record = self.record(sid)
            if record is not None and record.get("line") is not None:
                records.append(record)
        listed = {r["call_sid"] for r in records}
        for spooled in self.spooled(lines, since):
            if spooled["call_sid"] not in listed:
                records.append(self.record(spooled["call_sid"]) or spooled)
        records.sort(key=lambda r: r.get("started_at") or "", reverse=True)
        return records[:limit]

    def spooled(self, lines: Iterable[str] | None = None, since: dt.datetime | None = None) -> list[dict]:
        """Return records of calls that exist only in the spool (Redis down or not configured)."""
        sids = {p.name.split(".", 1)[0] for p in self.spool.dir.glob("*.*")} if self.spool.dir.is_dir() else set()
        wanted = set(lines) if lines is not None else None
        out = []
        for sid in sids:
            record = fold(sid, self.spool.events(sid))
            if wanted is not None and record.get("line") not in wanted:
                continue
            if since and (record.get("started_at") or "") < since.astimezone(dt.timezone.utc).isoformat():
                continue
            out.append(record)
        return sorted(out, key=lambda r: r.get("started_at") or "", reverse=True)


def _flush_loop(store_ref: "weakref.ref[CallStore]", wake: threading.Event) -> None:
    """Replay the spool whenever woken or every FLUSH_EVERY s; ends when the store is gone."""
    while True:
        wake.wait(FLUSH_EVERY)
        wake.clear()
        store = store_ref()
        if store is None:
            return
        try:
            if store.spool.pending() and not store.breaker.is_open():
                count = store.flush()
                if count:
                    log.info("flushed %d spooled call events into Redis", count)
        except Exception:  # noqa: BLE001 - the flusher must outlive a full disk or a bad file
            log.exception("spool flush failed")
        del store


def _notify(observers: list, value) -> None:
    for observer in list(observers):
        try:
            observer(value)
        except Exception:  # noqa: BLE001 - an observer never breaks a call
            log.exception("call store observer %r failed", observer)
