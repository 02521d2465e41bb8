"""The crash window, in-process: a worker that died after Twilio accepted but before the SID was
written, or before anything left; receipts in any order; the shared limiter's spacing."""
from __future__ import annotations

import time

import pytest

from ivr import keys
from ivr.sms.blast import BlastStore, Claim
from ivr.sms.ratelimit import HEADROOM, RateLimiter
from ivr.sms.sender import Delivered, deliver
from ivr.sms.settings import SmsSettings
from ivr.sms.twilio_rest import client_from_env
from tests.sms_helpers import LINE, client, make_blast, numbers, per_recipient

SETTINGS = SmsSettings(lease=0.3, backoff=0.01, backoff_cap=0.05)


@pytest.fixture
def twilio(fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake_twilio.base_url)
    return client_from_env()


@pytest.fixture
def store(redis_url):
    return BlastStore(client(redis_url))


def _dead_worker(store, twilio, blast, number, send: bool):
    """Claim and start an attempt like a worker, maybe reach Twilio, then 'die' (no record)."""
    assert store.claim(blast.id, number, "dead", SETTINGS.lease) is Claim.FRESH
    assert store.begin_attempt(blast.id, number, "dead", SETTINGS.lease) == 1
    if send:
        twilio.messages.create(to=number, from_=LINE, body=blast.body)
    time.sleep(SETTINGS.lease + 0.1)


def test_a_message_twilio_accepted_before_the_crash_is_adopted_not_sent_again(store, twilio, fake_twilio):
    blast, (number,) = make_blast("d1", 1), numbers(1)
    store.create(blast, [number])
    _dead_worker(store, twilio, blast, number, send=True)
    limiter = RateLimiter(store.redis, blast.sender, 100)

    assert deliver(store, twilio, blast, number, limiter, SETTINGS) is Delivered.FOUND
    assert per_recipient(fake_twilio) == {number: 1}
    rec = store.recipient("d1", number)
    assert (rec["state"], rec["sid"]) == ("sent", fake_twilio.messages[0]["sid"])


def test_a_crash_before_anything_left_is_sent_once_after_looking(store, twilio, fake_twilio):
    blast, (number,) = make_blast("d2", 1), numbers(1)
    store.create(blast, [number])
    _dead_worker(store, twilio, blast, number, send=False)

    assert deliver(store, twilio, blast, number, RateLimiter(store.redis, blast.sender, 100), SETTINGS) is Delivered.SENT
    assert per_recipient(fake_twilio) == {number: 1}
    assert [q["operation_id"] for q in fake_twilio.requests] == ["ListMessage", "CreateMessage"]


def test_another_blasts_message_with_the_same_body_is_not_adopted(store, twilio, fake_twilio):
    (number,) = numbers(1)
    first, second = make_blast("d3a", 1), make_blast("d3b", 1)
    store.create(first, [number])
    store.create(second, [number])
    limiter = RateLimiter(store.redis, first.sender, 100)
    assert deliver(store, twilio, first, number, limiter, SETTINGS) is Delivered.SENT
    _dead_worker(store, twilio, second, number, send=False)

    assert deliver(store, twilio, second, number, limiter, SETTINGS) is Delivered.SENT
    assert per_recipient(fake_twilio) == {number: 2}


def test_a_live_lease_keeps_other_workers_off(store, twilio):
    blast, (number,) = make_blast("d4", 1), numbers(1)
    store.create(blast, [number])
    assert store.claim("d4", number, "a", 30) is Claim.FRESH
    assert deliver(store, twilio, blast, number, RateLimiter(store.redis, "x", 100), SETTINGS) is Delivered.SKIPPED


def test_when_twilio_cannot_be_asked_the_recipient_stays_in_doubt(store, twilio, fake_twilio):
    blast, (number,) = make_blast("d5", 1), numbers(1)
    store.create(blast, [number])
    _dead_worker(store, twilio, blast, number, send=False)
    fake_twilio.stop()

    assert deliver(store, twilio, blast, number, RateLimiter(store.redis, "x", 100), SETTINGS) is Delivered.RELEASED
    rec = store.recipient("d5", number)
    assert (rec["state"], rec["doubt"]) == ("pending", "1")
    fake_twilio.start()


def test_receipts_only_move_forward_and_early_ones_are_kept(store):
    blast, (a, b) = make_blast("r1", 2), numbers(2)
    store.create(blast, [a, b])
    store.claim("r1", a, "t", 30)
    store.mark_sent("r1", a, "SM" + "a" * 32, "queued", 1)
    assert store.record_status("SM" + "a" * 32, "delivered")
    assert not store.record_status("SM" + "a" * 32, "sent")          # late 'sent' after 'delivered'
    assert store.recipient("r1", a)["status"] == "delivered"

    assert store.record_status("SM" + "b" * 32, "sent")              # before the worker wrote the SID
    store.claim("r1", b, "t", 30)
    store.mark_sent("r1", b, "SM" + "b" * 32, "queued", 1)
    assert store.recipient("r1", b)["status"] == "sent"


def test_a_recipient_taken_over_during_a_long_rate_pause_is_not_sent(store, twilio, fake_twilio):
    """A 429 held every worker of the sender back for longer than a quarter of the lease; meanwhile
    the lease ran out and another worker claimed the recipient: the lease is renewed (and found
    lost) after the wait, so nothing is sent."""
    blast, (number,) = make_blast("pause", 1), numbers(1)
    store.create(blast, [number])
    settings = SmsSettings(lease=2.0)
    limiter = RateLimiter(store.redis, blast.sender, 100)
    limiter.pause(1.0)

    def sleep(seconds: float) -> None:
        store.redis.hset(keys.blast_recipient(blast.id, number), "lease_until", 0)
        assert store.claim(blast.id, number, "other", 60) is Claim.DOUBT

    assert deliver(store, twilio, blast, number, limiter, settings, sleep=sleep) is Delivered.SKIPPED
    assert fake_twilio.requests == []
    assert store.recipient(blast.id, number)["token"] == "other"


def _redis_us(r) -> int:
    sec, usec = r.time()
    return int(sec) * 1_000_000 + int(usec)


def test_the_limiter_spaces_reservations_by_one_over_the_rate(redis_url):
    # Judged on Redis's clock, exactly: each reservation's slot (the key's next free time less one
    # interval) and its wait, bracketed by Redis TIME read before and after the call. Comparing
    # consecutive waits instead would also measure how long the test process was descheduled
    # between two calls, which a loaded 2-core machine does not keep under a few milliseconds.
    r = client(redis_url)
    limiter = RateLimiter(r, "+4570112230", 20)
    step_us = int(1_000_000 / (20 * HEADROOM))
    assert limiter.interval_us == step_us
    slots, waits = [], []
    for _ in range(10):
        before = _redis_us(r)
        wait_us = round(limiter.reserve() * 1_000_000)
        after = _redis_us(r)
        slot = int(r.get(limiter.key)) - step_us
        assert slot - after <= wait_us <= slot - before  # it waits exactly until its slot
        slots.append(slot)
        waits.append(wait_us)
    assert waits[0] == 0  # the first slot is free at once
    assert [b - a for a, b in zip(slots, slots[1:])] == [step_us] * 9  # slots 1/(HEADROOM * rate) apart
    before = _redis_us(r)
    limiter.pause(2.0)
    wait = limiter.reserve()
    elapsed = (_redis_us(r) - before) / 1_000_000
    assert wait >= 2.0 - elapsed and wait <= 2.0 + step_us / 1_000_000  # nobody sends for 2 s


def test_the_watchdog_resumes_only_a_stalled_blast_and_stops_when_done(redis_url, monkeypatch, twilio):
    from rq import Queue

    from ivr.sms.jobs import QUEUE, watch_blast

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SMS_WATCH_SECONDS", "60")
    r = client(redis_url)
    store = BlastStore(r)
    to = numbers(3)
    store.create(make_blast("w1", 3), to)
    assert store.claim("w1", to[0], "live", 30) is Claim.FRESH     # a live worker holds this one
    assert watch_blast("w1", -1) == "waiting"                      # first look: just remember progress
    assert watch_blast("w1", 0) == "resumed 2"                     # no progress since: the two free ones
    queued = Queue(QUEUE, connection=r).jobs
    assert [j.args for j in queued if j.func_name.endswith("send_batch")] == [("w1", to[1:])]
    store.mark_sent("w1", to[0], "SM" + "d" * 32, "queued", 1)
    for n in to[1:]:
        store.claim("w1", n, "t", 30)
        store.mark_sent("w1", n, "SM" + n[-8:] * 4, "queued", 1)
    assert watch_blast("w1", 0) == "finished" and store.active() == []
    assert watch_blast("nope") == "gone"


def test_job_modules_and_the_worker_load_without_flask():
    import subprocess
    import sys

    code = ("import sys, ivr.sms.jobs, ivr.outages.jobs, ivr.outages.service, ivr.cli.worker; "
            "sys.exit('flask' in sys.modules or 'werkzeug' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=str(__import__("pathlib").Path(__file__).parents[1])).returncode == 0
