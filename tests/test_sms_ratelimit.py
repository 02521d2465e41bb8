"""The shared send-rate limiter against a real Redis: a worker that wakes up late past its slot."""
from __future__ import annotations

import threading
import time

from ivr.sms.ratelimit import HEADROOM, RateLimiter
from tests.sms_helpers import client, max_in_window

SENDER = "+4570112230"


def test_a_worker_waking_late_past_its_slot_does_not_put_one_more_send_into_a_second(redis_url):
    """One worker keeps sending on its slots; another is descheduled for 0.19 s each time it
    reaches its slot and only then goes on to send, right next to the following slot's owner.
    Judged on Redis's clock at the moment the limiter let each send go (reading the clock after
    `acquire` returns would also measure how long this test's own threads were descheduled)."""
    rate = 10
    seen: list[float] = []
    lock = threading.Lock()

    def worker(sends: int, oversleep: float, start_after: float) -> None:
        r = client(redis_url)
        limiter = RateLimiter(r, SENDER, rate)
        time.sleep(start_after)
        for _ in range(sends):
            admitted = limiter.acquire(sleep=lambda s: time.sleep(s + oversleep))
            with lock:
                seen.append(admitted)

    threads = [threading.Thread(target=worker, args=(30, 0.0, 0.0)),
               threading.Thread(target=worker, args=(6, 0.19, 0.3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(seen) == 36
    assert max_in_window(seen, 1.0) <= rate, sorted(b - a for a, b in zip(sorted(seen), sorted(seen)[1:]))
    assert max(seen) - min(seen) < 35 / (rate * HEADROOM) * 1.3    # and not needlessly slow
