"""Outages and their SMS blasts are kept `outages.keep_days` from the restore, then expire.

The moment is passed in; expiry is read from the TTLs Redis reports.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.config import load_config
from ivr.config.errors import ConfigErrors
from ivr.outages import service
from ivr.outages.store import OutageStore
from ivr.sms.blast import BlastStore
from tests.sms_helpers import PUBLIC, client
from tests.support.voice import config_from_text
from tests.test_outage_voice import STAFF_YAML

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
T0 = dt.datetime(2026, 11, 23, 8, 12, tzinfo=dt.timezone.utc)
DAY = 86400


@pytest.fixture(autouse=True)
def sender(monkeypatch):
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)


def _outage_keys(r, oid: str) -> list[str]:
    found = [f"hotline:outage:{oid}", f"hotline:outage:{oid}:blasts", f"hotline:outage:{oid}:calls"]
    for bid in OutageStore(r).blasts(oid):
        found += [f"hotline:blast:{bid}", f"hotline:blast:{bid}:to"]
        found += [f"hotline:blast:{bid}:to:{n}" for n in BlastStore(r).numbers(bid)]
    return found


def test_a_restored_outage_and_its_blasts_expire_after_keep_days(redis_url):
    hotline = load_config(BRONDBY).lines()[0]
    assert hotline.outages.keep_days == 400                       # the default
    r = client(redis_url)
    oid = service.declare(r, hotline, "nexus", "", "phone:+4534412350", T0).outage.id
    OutageStore(r).link_call(oid, "CA" + "1" * 32)
    assert all(r.ttl(k) == -1 for k in _outage_keys(r, oid))       # open: kept while it lasts
    assert r.ttl(f"hotline:outages:{hotline.line}") == -1
    service.restore(r, hotline, "nexus", "test", T0 + dt.timedelta(hours=3))
    found = _outage_keys(r, oid)
    assert len(found) == 3 + 2 * 2 + 2 * 9                         # down + restored blasts to 9 sites
    for key in found:
        assert 400 * DAY - 60 < r.ttl(key) <= 400 * DAY, key
    assert 400 * DAY - 60 < r.ttl(f"hotline:outages:{hotline.line}") <= 400 * DAY


def test_applying_retention_later_counts_from_the_restore_and_never_extends(redis_url):
    hotline = load_config(BRONDBY).lines()[0]
    r = client(redis_url)
    oid = service.declare(r, hotline, "network", "", "test", T0).outage.id
    assert OutageStore(r).keep(oid, 400, T0) == 0 and r.ttl(f"hotline:outage:{oid}") == -1  # still open
    restored = T0 + dt.timedelta(minutes=47)
    service.restore(r, hotline, "network", "test", restored)
    OutageStore(r).keep(oid, 400, restored + dt.timedelta(days=10))
    assert 390 * DAY - 60 < r.ttl(f"hotline:outage:{oid}") <= 390 * DAY
    OutageStore(r).keep(oid, 400, restored)                          # earlier moment: no extension
    assert r.ttl(f"hotline:outage:{oid}") <= 390 * DAY
    OutageStore(r).keep(oid, 400, restored + dt.timedelta(days=500))  # past its time: gone
    assert not r.exists(f"hotline:outage:{oid}")


def test_the_index_outlives_no_open_outage_and_drops_expired_ones(redis_url):
    hotline = load_config(BRONDBY).lines()[0]
    r = client(redis_url)
    first = service.declare(r, hotline, "network", "", "test", T0).outage.id
    service.restore(r, hotline, "network", "test", T0 + dt.timedelta(minutes=5))
    second = service.declare(r, hotline, "nexus", "", "test", T0 + dt.timedelta(minutes=6)).outage.id
    assert r.ttl(f"hotline:outages:{hotline.line}") == -1           # an open outage is listed
    r.delete(f"hotline:outage:{first}")                              # as if it had expired
    service.restore(r, hotline, "nexus", "test", T0 + dt.timedelta(minutes=9))
    assert r.zrange(f"hotline:outages:{hotline.line}", 0, -1) == [second.encode()]


def test_a_call_linked_just_after_the_restore_expires_with_the_outage(redis_url):
    hotline = load_config(BRONDBY).lines()[0]
    r = client(redis_url)
    oid = service.declare(r, hotline, "nexus", "", "test", T0).outage.id
    service.restore(r, hotline, "nexus", "test", T0 + dt.timedelta(hours=1))
    OutageStore(r).link_call(oid, "CA" + "2" * 32)                  # read "open" a moment before
    assert 400 * DAY - 60 < r.ttl(f"hotline:outage:{oid}:calls") <= 400 * DAY


def test_keep_days_is_configurable_and_checked():
    text = STAFF_YAML.replace("outages:\n", "outages:\n  keep_days: 30\n", 1)
    assert config_from_text(text).lines()[0].outages.keep_days == 30
    with pytest.raises(ConfigErrors, match="keep_days"):
        config_from_text(STAFF_YAML.replace("outages:\n", "outages:\n  keep_days: 0\n", 1))


def test_a_failed_send_job_with_its_numbers_is_kept_a_week_not_rqs_year(redis_url):
    from rq import Queue

    from ivr.sms.jobs import QUEUE, enqueue_batches
    from ivr.sms.settings import SmsSettings

    r = client(redis_url)
    enqueue_batches(r, "outage-1-down", ["+4534412370", "+4534412371"], SmsSettings())
    (job,) = Queue(QUEUE, connection=r).get_jobs()
    assert job.failure_ttl == 7 * DAY


def test_a_resend_after_the_restore_expires_with_its_outage(redis_url):
    from ivr.sms.resend import resend_gave_up

    hotline = load_config(BRONDBY).lines()[0]
    r = client(redis_url)
    oid = service.declare(r, hotline, "nexus", "", "test", T0).outage.id
    service.restore(r, hotline, "nexus", "test", T0 + dt.timedelta(hours=1))
    restored = [b for b in OutageStore(r).blasts(oid) if b.endswith("restored")][0]
    number = BlastStore(r).numbers(restored)[0]
    r.hset(f"hotline:blast:{restored}:to:{number}", mapping={"state": "failed", "error_code": "gave_up"})
    assert resend_gave_up(r, restored, "test", T0 + dt.timedelta(hours=2)) == [number]
    log = f"hotline:blast:{restored}:resends"
    assert 0 < r.ttl(log) <= r.ttl(f"hotline:blast:{restored}")
    OutageStore(r).keep(oid, 400, T0 + dt.timedelta(days=401))   # past it: everything goes, the log too
    assert not r.exists(log, f"hotline:blast:{restored}")


def test_a_restore_leaves_no_cancelled_escalation_job_behind(redis_url):
    hotline = load_config(BRONDBY).lines()[0]
    r = client(redis_url)
    oid = service.declare(r, hotline, "nexus", "", "test", T0).outage.id
    jobs = [service.escalation_job_id(oid, i) for i in range(len(hotline.outages.escalations))]
    assert jobs and all(r.exists(f"rq:job:{j}") for j in jobs)
    service.restore(r, hotline, "nexus", "test", T0 + dt.timedelta(minutes=30))
    kept_forever = [k for k in map(bytes.decode, r.scan_iter("rq:*")) if r.ttl(k) == -1 and any(
        j in k or r.type(k) == b"zset" and r.zscore(k, j) is not None for j in jobs)]
    assert kept_forever == []
