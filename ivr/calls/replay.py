"""The spool's replay into Redis, off the call path: one flusher thread per process (started with
a server, or at the first write; again after a fork) looks every FLUSH_EVERY seconds, or when
woken, moves the journals of processes that died into the spool (ivr.calls.journal) and replays
the spool when the breaker lets it. A mixin of ivr.calls.store.CallStore, which gives it `redis`,
`spool`, `breaker`, `behind`, `_write`, `_failed` and the hooks `on_replayed` and `mark_replayed`.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref

import redis

from ivr.calls.append import DEFAULT_TTL_DAYS, FOLLOW
from ivr.calls.journal import adopt_orphans

log = logging.getLogger(__name__)

FLUSH_EVERY = 1.0  # seconds between the flusher's looks at the spool


class SpoolReplay:
    """Replaying the spool and adopting dead processes' journals (see the module docstring)."""

    def _replay(self, spooled: dict) -> None:
        """Write one spooled event; `spooled` is left as it was (a failed flush puts it back)."""
        ev = dict(spooled)
        ttl_days = ev.pop("_ttl_days", None) or DEFAULT_TTL_DAYS
        index_ts = ev.pop("_index_ts", None)
        if FOLLOW not in ev and self.mark_replayed is not None:
            try:
                ev = self.mark_replayed(ev)
            except Exception:  # noqa: BLE001 - the event itself must still reach Redis
                log.exception("mark_replayed failed for event %s of call %s", ev.get("id"), ev.get("sid"))
        if self._write(ev, ttl_days, index_ts):
            self._new_in_redis(ev)

    def _new_in_redis(self, ev: dict) -> None:
        """Call `on_replayed` for an event written off the request that Redis found new (replayed
        or written behind), without its follow-up, which is no part of the logged event; an
        exception there is logged: the event is in Redis, the flush goes on."""
        if self.on_replayed is None:
            return
        try:
            self.on_replayed({k: v for k, v in ev.items() if k != FOLLOW} if FOLLOW in ev else ev)
        except Exception:  # noqa: BLE001
            log.exception("on_replayed failed for event %s of call %s", ev.get("id"), ev.get("sid"))

    def flush(self) -> int:
        """Replay the spool into Redis; returns how many events went in (0 when Redis is down)."""
        if self.redis is None:
            return 0
        with self._lock:
            try:
                return self.spool.flush(self._replay, fatal=(redis.RedisError, OSError))
            except redis.RedisError as exc:
                self._failed(exc)
                return 0

    def start_flusher(self) -> None:
        """Start this process's spool flusher now (it also starts at the first write)."""
        self._ensure_flusher()

    def _ensure_flusher(self) -> None:
        """Start this process's flusher thread unless it runs (started lazily: after a fork too)."""
        if self.redis is None:
            return
        self._closed = False
        if self._flusher is not None and self._flusher.is_alive():
            return
        with self._start_lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._wake = threading.Event()
            self._flusher = threading.Thread(target=_flush_loop, args=(weakref.ref(self), self._wake),
                                             name="hotline-spool-flusher", daemon=True)
            self._flusher.start()

    def close(self, timeout: float = 3.0) -> None:
        """Write what waits behind and stop this process's spool flusher, waiting for a replay in
        flight (at most `timeout` seconds in all; else the journal stays for another process); the
        store can still write (it starts them again). For a process that ends, and for tests that
        make many stores."""
        deadline = time.monotonic() + timeout
        if self.behind is not None:
            self.behind.close(timeout)
        self._closed = True
        self._wake.set()
        flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(max(0.0, deadline - time.monotonic()))   # a replay in flight ends first

    def adopt_orphans(self) -> int:
        """Move the journals of processes that ended before writing their events into the spool;
        returns how many events were moved (logged, never raised: they stay in the journal)."""
        if self.behind is None:
            return 0
        try:
            return adopt_orphans(self.behind.journal.dir, self.spool)
        except OSError:
            log.exception("could not move an ended process's call event journal into the spool")
            return 0


def _flush_loop(store_ref: "weakref.ref[CallStore]", wake: threading.Event) -> None:
    """Replay the spool whenever woken or every FLUSH_EVERY s; ends when the store is gone."""
    while True:
        wake.wait(FLUSH_EVERY)
        wake.clear()
        store = store_ref()
        if store is None or store._closed:
            return
        try:
            store.adopt_orphans()
            if store.spool.pending() and not store.breaker.is_open():
                count = store.flush()
                if count:
                    log.info("flushed %d spooled call events into Redis", count)
        except Exception:  # noqa: BLE001 - the flusher must outlive a full disk or a bad file
            log.exception("spool flush failed")
        del store
