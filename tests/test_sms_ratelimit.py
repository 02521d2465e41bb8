"""The shared send-rate limiter against a real Redis: a worker that wakes up late past its slot."""
from __future__ import annotations

import threading
import time

from ivr.sms.ratelimit import HEADROOM, WINDOW, RateLimiter
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
            limiter.settle()

    threads = [threading.Thread(target=worker, args=(30, 0.0, 0.0)),
               threading.Thread(target=worker, args=(6, 0.19, 0.3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(seen) == 36
    assert max_in_window(seen, 1.0) <= rate, sorted(b - a for a, b in zip(sorted(seen), sorted(seen)[1:]))
    assert max(seen) - min(seen) < 35 / (rate * HEADROOM) * 1.3    # and not needlessly slow


def test_a_send_delayed_after_its_admission_does_not_put_one_more_into_a_second(redis_url):
    """The worker got its admission, then waited 0.19 s for a CPU before the request reached
    Twilio (stamped here with Redis's clock, as the stand-in stamps arrivals), next to the
    following sends. Settling each send when its answer came back moves a late one's place in the
    admission log to when it may have arrived."""
    rate = 10
    arrived: list[float] = []
    lock = threading.Lock()

    def worker(sends: int, delay: float, start_after: float) -> None:
        r = client(redis_url)
        limiter = RateLimiter(r, SENDER, rate)
        time.sleep(start_after)
        for i in range(sends):
            limiter.acquire()
            time.sleep(delay if i % 2 else 0.0)        # every other send is held up after admission
            sec, usec = r.time()
            with lock:
                arrived.append(sec + usec / 1_000_000)
            limiter.settle()

    _run_and_check_the_cap([threading.Thread(target=worker, args=(30, 0.0, 0.0)),
                            threading.Thread(target=worker, args=(8, 0.19, 0.3))], arrived, 38, rate)


def test_a_send_in_flight_counts_until_settled_and_a_refusal_waits_at_most_one_interval(redis_url):
    r = client(redis_url)
    limiter = RateLimiter(r, SENDER, 1)
    assert limiter.admit()[0] == 0
    wait, _ = limiter.admit()                # the first is in flight: it counts, whatever its age
    assert 0 < wait <= limiter.interval_us / 1_000_000
    time.sleep(1.1)
    assert limiter.admit()[0] > 0            # still in flight after the window: still counted
    limiter.settle()                         # its answer took 1.1 s: it may have reached Twilio just now
    assert limiter.admit()[0] > 0
    time.sleep(WINDOW + 0.05)
    assert limiter.admit()[0] == 0


def _redis_us(r) -> int:
    sec, usec = r.time()
    return int(sec) * 1_000_000 + int(usec)


def test_a_settled_send_is_forgiven_no_more_than_the_shortest_round_trip_seen(redis_url):
    """Under sustained load most round trips are long, and a request held up on its way out by
    that load arrives late after its admission. Settling forgives the sender's usual round trip,
    so a send may count up to that much earlier than it arrived: the usual round trip must never
    grow past one actually seen (here one quick send, then 60 sends of at least 60 ms each).
    Judged on Redis's clock: each send's place in the log against its settle, bracketed."""
    r = client(redis_url)
    limiter = RateLimiter(r, SENDER, 1000)

    def send(round_trip: float) -> tuple[int, int, int]:
        """Returns (place in the log, Redis time just before settling, just after) in us."""
        assert limiter.admit()[0] == 0
        member, _ = limiter._in_flight
        time.sleep(round_trip)
        before = _redis_us(r)
        limiter.settle()
        after = _redis_us(r)
        return int(r.zscore(limiter.log_key, member)), before, after

    admitted_at = _redis_us(r)
    place, before, after = send(0.0)
    assert place >= before             # a sender's first send counts its whole round trip
    quickest = after - admitted_at     # at least as long as the quick send's round trip
    for _ in range(60):
        place, before, _ = send(0.06)
        assert place >= before - quickest, (before - place, quickest)


def test_slots_missed_in_a_stall_of_a_quarter_second_are_caught_up(redis_url):
    """Every worker is held up (a job hand-off forks a fresh work-horse, a loaded machine) for
    0.3 s mid-blast: the slots of the last 0.25 s (10 at 40/s) are due at once, not only 3."""
    r = client(redis_url)
    limiter = RateLimiter(r, SENDER, 40)
    for _ in range(5):
        limiter.wait_for_slot()
    time.sleep(0.3)
    due_at_once = 0
    while limiter.reserve() == 0:
        due_at_once += 1
    assert due_at_once >= 10


def test_catching_up_after_stalls_never_puts_more_than_rate_into_a_second(redis_url):
    """Two workers at 40/s; one of them stalls 0.4 s after every 15th slot, the other after every
    20th (each stall lets slots go by that are then caught up in a burst). Only admission keeps
    a burst next to sends of the second before it; judged on Redis's clock at admission."""
    rate = 40
    seen: list[float] = []
    lock = threading.Lock()

    def worker(sends: int, stall_every: int) -> None:
        r = client(redis_url)
        limiter = RateLimiter(r, SENDER, rate)
        for i in range(sends):
            limiter.wait_for_slot(sleep=lambda s: time.sleep(s + (0.4 if i % stall_every == stall_every - 1 else 0)))
            admitted = limiter.wait_for_admission()
            with lock:
                seen.append(admitted)
            limiter.settle()

    _run_and_check_the_cap([threading.Thread(target=worker, args=(90, 15)),
                            threading.Thread(target=worker, args=(90, 20))], seen, 180, rate)


def test_reserve_and_admit_admits_only_a_due_slot_within_the_window(redis_url):
    """One round trip for a worker that is behind: a due slot is admitted (and logged) at once; a
    slot still ahead is not (nothing logged); a due slot with the window full waits at most one
    interval and is not logged either."""
    r = client(redis_url)
    limiter = RateLimiter(r, SENDER, 2)
    assert limiter.reserve_and_admit()[0] == 0                 # idle sender: its slot is now
    limiter.settle()
    assert r.zcard(limiter.log_key) == 1
    wait, _ = limiter.reserve_and_admit()                      # the next slot is 1/(2 * HEADROOM) s ahead
    assert 0.3 < wait <= limiter.interval_us / 1_000_000
    assert r.zcard(limiter.log_key) == 1
    time.sleep(wait)
    assert limiter.wait_for_admission() > 0                    # the second send of the window
    limiter.settle()
    r.delete(limiter.key)                                      # a slot due at once, the window full
    wait, _ = limiter.reserve_and_admit()
    assert 0 < wait <= limiter.interval_us / 1_000_000
    assert r.zcard(limiter.log_key) == 2


def _run_and_check_the_cap(threads: list, times: list[float], count: int, rate: float) -> None:
    """Run `threads` to the end; then `times` must hold `count` sends, never more than `rate` in 1 s."""
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(times) == count
    assert max_in_window(times, 1.0) <= rate, sorted(b - a for a, b in zip(sorted(times), sorted(times)[1:]))
