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
