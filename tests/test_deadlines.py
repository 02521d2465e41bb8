"""The process watchdog runs callbacks after their deadline (a little late at most), never cancelled ones."""
from __future__ import annotations

import threading
import time

from ivr.deadlines import Watchdog


def test_callbacks_run_after_their_deadline_in_order_and_cancelled_ones_never():
    dog = Watchdog(slack=0.05)
    ran: list[tuple[str, float]] = []
    done = threading.Event()
    start = time.monotonic()
    dog.after(0.6, lambda: (ran.append(("late", time.monotonic() - start)), done.set()))
    dog.after(0.2, lambda: ran.append(("early", time.monotonic() - start)))  # sooner than the first: wakes it
    dog.after(0.3, lambda: ran.append(("cancelled", 0.0))).cancel()
    assert done.wait(10)
    assert [name for name, _ in ran] == ["early", "late"]
    assert ran[0][1] >= 0.2 and ran[1][1] >= 0.6
    assert ran[0][1] < 5  # generous: a loaded machine


def test_a_failing_callback_does_not_stop_the_watchdog():
    dog = Watchdog(slack=0.01)
    done = threading.Event()
    dog.after(0.05, lambda: 1 / 0)
    dog.after(0.1, done.set)
    assert done.wait(10)


def test_many_registrations_share_one_thread():
    dog = Watchdog()
    before = threading.active_count()
    tickets = [dog.after(30, lambda: None) for _ in range(200)]
    for t in tickets:
        t.cancel()
    assert threading.active_count() <= before + 1
    assert dog._thread is not None and dog._thread.is_alive()


class _CountingCondition(threading.Condition):
    """A Condition that counts its notify() calls (each one wakes the watchdog thread)."""

    def __init__(self, lock):
        super().__init__(lock)
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def test_a_stream_of_cancelled_deadlines_does_not_wake_the_thread_each_time():
    # Each webhook registers a body deadline and cancels it a millisecond later. Waking the
    # thread for each of them costs a thread switch per request; only a deadline sooner than
    # the thread's next look may wake it.
    dog = Watchdog(slack=0.05)
    counting = _CountingCondition(dog._lock)   # the watchdog registers under its condition's lock
    dog._cond = counting
    dog.after(30, lambda: None).cancel()   # starts the thread
    time.sleep(0.1)
    for _ in range(100):
        dog.after(3, lambda: None).cancel()
        time.sleep(0.002)                  # lets the thread run between requests, as in a server
    assert counting.notified <= 5, f"the watchdog thread was woken {counting.notified} times for 100 requests"


def test_a_watchdog_thread_that_died_is_replaced_by_the_next_registration(monkeypatch):
    dog = Watchdog(slack=0.01)
    real_look = Watchdog._look
    crashed = threading.Event()

    def crash_once(self):
        monkeypatch.setattr(Watchdog, "_look", real_look)
        crashed.set()
        raise RuntimeError("a bug in the watchdog's loop")

    monkeypatch.setattr(Watchdog, "_look", crash_once)
    dog.after(30, lambda: None)
    assert crashed.wait(10)
    deadline = time.monotonic() + 10
    while dog._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert dog._thread is None   # the dying thread said so
    done = threading.Event()
    dog.after(0.05, done.set)
    assert done.wait(10)
    assert dog._thread is not None and dog._thread.is_alive()
