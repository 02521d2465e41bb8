"""Running a command again after it died half-way (Redis went away) completes what it left undone."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import redis as redis_lib

from ivr.config import load_config
from ivr.outages import service
from ivr.sms.blast import BlastStore
from ivr.sms.jobs import start_blast
from tests.sms_helpers import all_done, client, make_blast, numbers, per_recipient
from tests.support.rq_workers import WorkerPool, wait_until
from tests.test_outage_service import _escalation_job
from tests.test_sms_blast import env  # noqa: F401 - the workers' environment

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"


def test_a_blast_whose_jobs_were_never_enqueued_is_completed_by_starting_it_again(env, redis_url, fake_twilio,
                                                                                 tmp_path):
    r = client(redis_url)
    to = numbers(5)
    with WorkerPool(1, env, tmp_path) as pool:  # running already: its start-up look is over
        wait_until(lambda: len(r.keys("rq:worker:*")) >= 1, 15, message="worker up")
        BlastStore(r).create(make_blast("half", 5, rate=50), to)  # the first start died right here
        assert not start_blast(r, make_blast("half", 5, rate=50), to)  # run again: not a new blast...
        wait_until(all_done(redis_url, "half"), 20, message=lambda: "half done\n" + pool.logs())  # ...completed
    assert per_recipient(fake_twilio) == {n: 1 for n in to}


def test_a_declare_that_died_before_scheduling_escalations_schedules_them_when_run_again(env, redis_url,
                                                                                        monkeypatch):
    r = client(redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    hotline = load_config(BRONDBY).lines()[0]
    real_queue = service.queue

    class Gone:
        def enqueue_at(self, *args, **kwargs):
            raise redis_lib.ConnectionError("Redis went away")

    monkeypatch.setattr(service, "queue", lambda redis: Gone())
    with pytest.raises(redis_lib.ConnectionError):
        service.declare(r, hotline, "nexus", "", "test", dt.datetime.now(dt.timezone.utc))
    monkeypatch.setattr(service, "queue", real_queue)
    again = service.declare(r, hotline, "nexus", "", "test", dt.datetime.now(dt.timezone.utc))
    assert not again.changed
    assert _escalation_job(r, again.outage.id)


def test_two_runs_adding_the_same_blast_at_once_list_it_once(redis_url, monkeypatch):
    """Two escalate runs racing (or two declares) both add the blast id; each saw the list
    without it, yet `outage show` must list the blast once."""
    from ivr.outages.store import OutageStore

    store = OutageStore(client(redis_url))
    monkeypatch.setattr(OutageStore, "blasts", lambda self, oid: [])  # both read before either wrote
    store.add_blast("7", "outage-7-escalation0")
    store.add_blast("7", "outage-7-escalation0")
    monkeypatch.undo()
    assert store.blasts("7") == ["outage-7-escalation0"]


def test_an_escalation_that_died_after_firing_is_not_sent_once_the_outage_is_restored(env, redis_url, monkeypatch):
    """The run that fired step 0 died before its blast; the outage was restored; RQ retries the
    job: the duty officer must not be told 'down for over 2 hours' after it works again."""
    from ivr.outages.jobs import escalate
    from ivr.outages.model import BlastKind
    from ivr.outages.store import OutageStore

    r = client(redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    hotline = load_config(BRONDBY).lines()[0]
    now = dt.datetime.now(dt.timezone.utc)
    oid = service.declare(r, hotline, "nexus", "", "test", now).outage.id
    assert OutageStore(r).fire(oid, 0, now)  # the first run got this far, then died
    service.restore(r, hotline, "nexus", "test", now + dt.timedelta(minutes=130))
    assert escalate(oid, 0) == "skipped"
    assert BlastStore(r).get(service.blast_id(oid, BlastKind.ESCALATION, 0)) is None


def test_a_receipt_racing_the_worker_that_records_its_sid_is_not_lost(redis_url):
    """The callback looked the SID up just before the worker recorded it: the status must still
    reach the recipient (it used to be parked as 'early' after the merge had already happened)."""
    store = BlastStore(client(redis_url))
    blast, (number,) = make_blast("rc", 1), numbers(1)
    store.create(blast, [number])
    store.claim("rc", number, "t", 30)
    sid = "SM" + "e" * 32
    real_get = store.redis.get
    stale = {"left": 1}

    def get(key):
        if stale["left"] and key.endswith(sid):  # the callback's lookup, made before the worker wrote
            stale["left"] -= 1
            store.mark_sent("rc", number, sid, "queued", 1)  # ...which happens right after it
            return None
        return real_get(key)

    store.redis.get = get
    store.record_status(sid, "delivered")
    store.redis.get = real_get
    assert store.recipient("rc", number)["status"] == "delivered"
