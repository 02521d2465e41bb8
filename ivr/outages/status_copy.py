"""The open outages of every hotline, as a copy in the web process kept fresh off the call path.

Callers hear the outage status first, so reading it must never wait on Redis: a daemon thread per
process (started on first use, again after a fork) reads the open outages of all hotlines every
`every` seconds through the app's gated client's background twin (ivr.calls.gate.background_client:
the same breaker, a longer wait for a reply). When Redis does not answer, the last copy stays
(an outage cannot be restored without Redis either). The call path only reads the copy; the first
reads in a process wait up to `first_wait` seconds for the thread's first try.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Callable, Iterable

from redis import Redis, RedisError

from ivr.calls.forksafe import renew_after_fork, run_in_slot
from ivr.calls.gate import background_client
from ivr.hotline import Hotline
from ivr.outages.model import Outage
from ivr.outages.store import OutageStore

log = logging.getLogger(__name__)

REFRESH_EVERY = 1.5   # seconds between refreshes: a declared outage is announced this much later at most
FIRST_WAIT = 0.3      # seconds the first call of a process waits for the first refresh


class OutageStatusCopy:
    """Open outages per hotline line; `open_outages(hotline)` never touches Redis."""

    def __init__(self, redis: Redis | None, hotlines: Callable[[], Iterable[Hotline]],
                 every: float = REFRESH_EVERY, first_wait: float = FIRST_WAIT):
        self.redis = background_client(redis)   # no caller waits on a refresh: it may wait longer
        self.hotlines = hotlines
        self.every = every
        self.first_wait = first_wait
        self._by_line: dict[str, list[Outage]] = {}
        self._tried = threading.Event()   # the thread's first refresh has been tried
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.refreshed_at: float | None = None   # time.monotonic() of the last good refresh
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self._start_lock, self._thread = threading.Lock(), None

    def open_outages(self, hotline: Hotline) -> list[Outage]:
        """Return the open outages of the hotline's systems, oldest first (as of the last refresh)."""
        if self.redis is None or not hotline.systems:
            return []
        self._ensure_thread()
        if not self._tried.is_set():
            self._tried.wait(self.first_wait)
        return [o for o in self._by_line.get(hotline.line, []) if o.system in hotline.systems]

    def open_id(self, hotline: Hotline, system: str) -> str | None:
        """Return the id of the open outage of `system` on the hotline, or None."""
        return next((o.id for o in self.open_outages(hotline) if o.system == system), None)

    def refresh(self) -> bool:
        """Read the open outages of every hotline now; returns False (copy kept) when Redis fails."""
        if self.redis is None:
            return False
        try:
            store = OutageStore(self.redis)
            fresh = {h.line: store.open_outages(h.line, list(h.systems)) for h in self.hotlines() if h.systems}
        except RedisError as exc:
            log.debug("outage status not refreshed: %s", exc)
            return False
        self._by_line = fresh
        self.refreshed_at = time.monotonic()
        return True

    def _ensure_thread(self) -> None:
        if self._thread is not None:   # a thread that ends clears it (cheaper than is_alive() per call)
            return
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=_refresh_loop, args=(weakref.ref(self), self.every),
                                            name="hotline-outage-status", daemon=True)
            self._thread.start()


def _refresh_loop(copy_ref: "weakref.ref[OutageStatusCopy]", every: float) -> None:
    """Refresh the copy every `every` seconds until it is garbage; should the loop end otherwise
    (a bug), the copy's slot is cleared and its next read starts a new thread."""
    run_in_slot(lambda: _refresh(copy_ref, every), copy_ref, "_start_lock", "_thread", "the outage status refresher")


def _refresh(copy_ref: "weakref.ref[OutageStatusCopy]", every: float) -> None:
    while True:
        copy = copy_ref()
        if copy is None:
            return
        try:
            copy.refresh()
        except Exception:  # noqa: BLE001 - the thread must outlive a bad outage record
            log.exception("outage status refresh failed")
        copy._tried.set()
        del copy
        time.sleep(every)
