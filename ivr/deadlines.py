"""One watchdog thread per process that runs callbacks at deadlines, a little late at most.

Cheaper than a `threading.Timer` per use (a new thread each time): registering and cancelling take
a lock and a heap push; the thread wakes at most about once per `slack` seconds while deadlines
are pending (once per IDLE_LOOK seconds when none are), so a callback runs up to `slack` seconds
after its deadline (never before it). Registering wakes the thread only when the new deadline
comes before the thread's next look: a stream of requests that each register a deadline of a few
seconds and cancel it at once costs no thread switch per request.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import weakref
from typing import Callable

from ivr.calls.forksafe import renew_after_fork, run_in_slot

log = logging.getLogger(__name__)

SLACK = 0.1  # seconds a callback may run after its deadline
IDLE_LOOK = 1.0  # seconds between the thread's looks while nothing is pending


class Ticket:
    """A registered callback; `cancel()` keeps it from running (a running callback is not stopped)."""

    __slots__ = ("deadline", "action", "cancelled")

    def __init__(self, deadline: float, action: Callable[[], None]):
        self.deadline, self.action, self.cancelled = deadline, action, False

    def cancel(self) -> None:
        self.cancelled = True


class Watchdog:
    """Runs callbacks at `time.monotonic()` deadlines on one daemon thread (started on first use)."""

    def __init__(self, slack: float = SLACK):
        self.slack = slack
        self._after_fork()
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self._heap: list[tuple[float, int, Ticket]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._next_look = 0.0  # monotonic time of the thread's next look at the heap

    def after(self, seconds: float, action: Callable[[], None]) -> Ticket:
        """Return a Ticket for `action`, run once `seconds` have passed (unless cancelled first)."""
        ticket = Ticket(time.monotonic() + seconds, action)
        with self._lock:   # the condition's own lock (Condition.__enter__ is a Python call more)
            heapq.heappush(self._heap, (ticket.deadline, next(self._order), ticket))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hotline-watchdog", daemon=True)
                self._thread.start()
            elif ticket.deadline < self._next_look:  # before the thread looks again: wake it
                self._cond.notify()
        return ticket

    def _run(self) -> None:
        """The thread's loop; should it ever end (a bug), the next `after` starts a new thread
        (cheaper than asking Thread.is_alive() on every registration)."""
        run_in_slot(self._look, weakref.ref(self), "_lock", "_thread", "the watchdog thread")

    def _look(self) -> None:
        heap = self._heap
        with self._cond:
            while True:
                now = time.monotonic()
                due: list[Ticket] = []
                while heap and (heap[0][2].cancelled or heap[0][0] <= now):
                    ticket = heapq.heappop(heap)[2]
                    if not ticket.cancelled:
                        due.append(ticket)
                if due:
                    self._cond.release()
                    try:
                        self._fire(due)
                    finally:
                        self._cond.acquire()
                else:
                    wait = max(heap[0][0] - now, self.slack) if heap else IDLE_LOOK
                    self._next_look = now + wait
                    self._cond.wait(wait)

    @staticmethod
    def _fire(due: list[Ticket]) -> None:
        for ticket in due:
            if ticket.cancelled:
                continue
            try:
                ticket.action()
            except Exception:  # noqa: BLE001 - the watchdog outlives a failing callback
                log.exception("deadline callback failed")


_watchdog = Watchdog()


def after(seconds: float, action: Callable[[], None]) -> Ticket:
    """Run `action` on the process's watchdog thread once `seconds` have passed; returns its Ticket."""
    return _watchdog.after(seconds, action)
