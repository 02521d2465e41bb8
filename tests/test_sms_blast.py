"""SMS blasts through real RQ workers (subprocesses), a real Redis and the fake Twilio."""
from __future__ import annotations

import pytest

from ivr.sms.blast import BlastStore
from ivr.sms.jobs import enqueue_batches, start_blast
from ivr.sms.ratelimit import CATCH_UP, HEADROOM
from ivr.sms.settings import SmsSettings
from tests.sms_helpers import LINE, PUBLIC, all_done, client, make_blast, max_in_window, numbers, per_recipient
from tests.support.rq_workers import WorkerPool, wait_until, worker_env

FAST = {"HOTLINE_SMS_LEASE_SECONDS": "3", "HOTLINE_SMS_WATCH_SECONDS": "1", "HOTLINE_SMS_BACKOFF_SECONDS": "0.05",
        "HOTLINE_SMS_BACKOFF_CAP_SECONDS": "0.5"}


@pytest.fixture
def env(redis_url, fake_twilio, monkeypatch):
    """Worker environment; the test process gets the same (it enqueues and reads)."""
    values = worker_env(redis_url, fake_twilio, PUBLIC_BASE_URL=PUBLIC, **FAST)
    for k, v in values.items():
        if k.startswith(("TWILIO_", "HOTLINE_", "REDIS_", "PUBLIC_")):
            monkeypatch.setenv(k, v)
    return values


def test_a_blast_reaches_every_recipient_once_with_sid_and_callback(env, redis_url, fake_twilio, tmp_path):
    r = client(redis_url)
    to = numbers(9)
    assert start_blast(r, make_blast("b1", 9, rate=50), to)
    with WorkerPool(1, env, tmp_path) as pool:
        wait_until(all_done(redis_url, "b1"), 20, message="blast b1 done\n" + pool.logs())

    assert per_recipient(fake_twilio) == {n: 1 for n in to}
    sent = {m["to"]: m for m in fake_twilio.messages}
    assert {m["from"] for m in sent.values()} == {LINE}
    assert {m["status_callback"] for m in sent.values()} == {f"{PUBLIC}/sms/status"}
    recipients = BlastStore(r).recipients("b1")
    assert [x["to"] for x in recipients] == to
    assert all(x["state"] == "sent" and x["sid"] == sent[x["to"]]["sid"] for x in recipients)
    assert BlastStore(r).active() == []  # the watchdog finished it


def test_repeated_start_and_retried_jobs_never_send_twice(env, redis_url, fake_twilio, tmp_path):
    r = client(redis_url)
    to = numbers(20)
    assert start_blast(r, make_blast("b2", 20), to)
    assert not start_blast(r, make_blast("b2", 20), to)          # repeated command
    enqueue_batches(r, "b2", to, SmsSettings.from_env())          # a job run twice
    enqueue_batches(r, "b2", list(reversed(to)), SmsSettings(batch=3))
    with WorkerPool(2, env, tmp_path) as pool:
        wait_until(all_done(redis_url, "b2"), 20, message="blast b2 done\n" + pool.logs())
        wait_until(lambda: r.llen("rq:queue:sms") == 0, 20, message="queue drained")
        pool_logs = pool.logs()
    assert per_recipient(fake_twilio) == {n: 1 for n in to}, pool_logs


def test_killing_a_worker_mid_blast_sends_each_of_1000_exactly_once(env, redis_url, fake_twilio, tmp_path):
    r = client(redis_url)
    to = numbers(1000)
    assert start_blast(r, make_blast("big", 1000, rate=200), to)
    with WorkerPool(2, env, tmp_path) as pool:
        wait_until(lambda: len(fake_twilio.messages) >= 300, 30, interval=0.005, message="300 sent")
        # The worst case: kill the worker that also runs RQ's scheduler (the watchdogs need it).
        victim = pool.scheduler_holder()
        killed = pool.kill(victim if victim is not None else 0)
        assert len(killed) >= 2, "expected the worker and its busy work-horse (and its scheduler)"
        pool.add()  # the platform restarts it; it frees the dead scheduler's lock and takes over
        replacement = len(pool.procs) - 1
        wait_until(all_done(redis_url, "big"), 60,
                   message=lambda: f"1000 done: {BlastStore(r).progress('big')}, {len(fake_twilio.messages)} at Twilio\n"
                   + pool.logs())
        if victim is not None:
            assert "released RQ scheduler lock" in pool.full_log(replacement)
            assert "Acquired scheduler lock for" in pool.full_log(replacement)
    counts = per_recipient(fake_twilio)
    assert set(counts) == set(to), f"missing: {sorted(set(to) - set(counts))[:5]}"
    assert [n for n, c in counts.items() if c != 1] == []
    sids = {m["to"]: m["sid"] for m in fake_twilio.messages}
    store = BlastStore(r)
    assert all(x["state"] == "sent" and x["sid"] == sids[x["to"]] for x in store.recipients("big"))
    assert store.progress("big") == {"total": 1000, "done": 1000, "sent": 1000, "failed": 0}


def test_429_and_500_are_retried_and_everyone_still_gets_one(env, redis_url, fake_twilio, tmp_path):
    r = client(redis_url)
    to = numbers(60)
    fake_twilio.fail_next(8, status=429, code=20429, operation="CreateMessage")
    fake_twilio.fail_next(8, status=500, code=20500, message="Internal error", operation="CreateMessage")
    fake_twilio.fail_next(4, status=503, code=20503, message="Service unavailable", operation="CreateMessage")
    assert start_blast(r, make_blast("flaky", 60, rate=100), to)
    with WorkerPool(2, env, tmp_path) as pool:
        wait_until(all_done(redis_url, "flaky"), 40, message="flaky done\n" + pool.logs())

    assert per_recipient(fake_twilio) == {n: 1 for n in to}
    statuses = [q["status"] for q in fake_twilio.requests if q["operation_id"] == "CreateMessage"]
    assert statuses.count(429) == 8 and statuses.count(500) == 8 and statuses.count(503) == 4
    # a 5xx may have created the message: the worker looked in Twilio's list before retrying
    assert sum(q["operation_id"] == "ListMessage" for q in fake_twilio.requests) >= 12
    assert BlastStore(r).progress("flaky")["sent"] == 60


def test_permanent_failures_are_recorded_and_not_retried(env, redis_url, fake_twilio, tmp_path):
    r = client(redis_url)
    to = numbers(6)
    fake_twilio.fail_for(to[1], status=400, code=21211)
    fake_twilio.fail_for(to[4], status=400, code=21610)
    assert start_blast(r, make_blast("perm", 6, rate=50), to)
    with WorkerPool(1, env, tmp_path) as pool:
        wait_until(all_done(redis_url, "perm"), 20, message="perm done\n" + pool.logs())

    tried = [q["params"]["To"] for q in fake_twilio.requests if q["operation_id"] == "CreateMessage"]
    assert tried.count(to[1]) == 1 and tried.count(to[4]) == 1
    store = BlastStore(r)
    assert (store.recipient("perm", to[1])["state"], store.recipient("perm", to[1])["error_code"]) == ("failed", "21211")
    assert store.recipient("perm", to[4])["error_code"] == "21610"
    assert store.progress("perm") == {"total": 6, "done": 6, "sent": 4, "failed": 2}


def test_the_configured_rate_is_held_across_workers(env, redis_url, fake_twilio, tmp_path, monkeypatch):
    r = client(redis_url)
    to = numbers(60)
    monkeypatch.setenv("HOTLINE_SMS_BATCH", "5")  # twelve jobs: three workers all send at once
    with WorkerPool(3, env, tmp_path) as pool:
        wait_until(lambda: len([k for k in r.keys("rq:worker:*") if b"pool" not in k]) >= 3, 15,
                   message="3 workers up")
        assert start_blast(r, make_blast("rate", 60, rate=20), to)
        wait_until(all_done(redis_url, "rate"), 30, message="rate done\n" + pool.logs())

    times = [m["received_at"] for m in fake_twilio.messages]
    assert len(times) == 60
    workers_used = {line.split("on worker ")[1] for line in pool.logs().splitlines()
                    if "Successfully completed ivr.sms.jobs.send_batch" in line}
    assert len(workers_used) == 3, "every worker should have sent"
    assert max_in_window(times, 1.0) <= 20
    # No burst: about 3 s for 60 at 20/s, less at most the slots a late first send lets go by and
    # the others catch up.
    assert times[-1] - times[0] >= 59 / (20 * HEADROOM) - CATCH_UP
    assert times[-1] - times[0] < 59 / 20 * 1.5    # and not needlessly slow


def test_a_worker_killed_after_twilio_accepted_but_before_the_sid_was_written(env, redis_url, fake_twilio, tmp_path,
                                                                              monkeypatch):
    """The crash window itself, end to end: Twilio has the message, the worker dies waiting for
    the answer. A worker must then find the message in Twilio's list and adopt it, not resend."""
    r = client(redis_url)
    to = numbers(12)
    fake_twilio.reply_delay = 1.0  # Twilio records each message, then answers a second later
    monkeypatch.setenv("HOTLINE_SMS_BATCH", "6")  # two jobs: one per worker
    with WorkerPool(2, {**env, "HOTLINE_SMS_BATCH": "6"}, tmp_path) as pool:
        wait_until(lambda: len(r.keys("rq:worker:*")) >= 2, 15, message="2 workers up")
        assert start_blast(r, make_blast("window", 12, rate=50), to)
        wait_until(lambda: len(fake_twilio.messages) >= 2, 15, interval=0.002, message="both workers' first")
        pool.kill(pool.scheduler_holder() or 0)
        pool.add()
        held = [m["to"] for m in fake_twilio.messages[:2]]
        fake_twilio.reply_delay = 0.0
        store = BlastStore(r)
        assert any(store.recipient("window", n).get("sid") is None for n in held)  # truly in the window
        wait_until(all_done(redis_url, "window"), 30, message=lambda: "window done\n" + pool.logs())

    assert per_recipient(fake_twilio) == {n: 1 for n in to}
    creates = [q for q in fake_twilio.requests if q["operation_id"] == "CreateMessage"]
    assert len(creates) == 12  # nobody was sent to twice, not even tried
    sids = {m["to"]: m["sid"] for m in fake_twilio.messages}
    assert all(store.recipient("window", n)["sid"] == sids[n] for n in to)
    searched = {q["query"].get("To") for q in fake_twilio.requests if q["operation_id"] == "ListMessage"}
    assert searched & set(held)
