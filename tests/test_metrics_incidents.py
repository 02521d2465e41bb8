"""/metrics shows the incidents still open per line and state, and the settle marks `hotline worker`
has not turned into jobs yet (real redis-server; the app's clock is told the moment)."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr import keys
from ivr.incidents import service
from ivr.incidents.jobs import settle_call, snapshot
from ivr.incidents.store import DAY, IncidentStore
from tests.incident_helpers import OFFICE, answered_by_desk, missed_into_voicemail, notify_config
from tests.metrics_helpers import AUTH, TOKEN, samples, value
from tests.sms_helpers import client
from tests.support.voice import BASE_URL

LINE = "+4570112299"   # the test hotline (call_log_days: 3)
KEPT = 3 * DAY


@pytest.fixture
def app(voice_app, redis_url, monkeypatch):
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LINE)
    return voice_app(notify_config(), at=OFFICE)


def scrape(va) -> dict:
    resp = va.client.get("/metrics", headers=AUTH)
    assert resp.status_code == 200
    return samples(resp.get_data(as_text=True))


def open_counts(va) -> tuple[float, float]:
    """Return (missed, acknowledged) open incidents of LINE as /metrics shows them."""
    found = scrape(va)
    return (value(found, "hotline_incidents_open", line=LINE, state="missed"),
            value(found, "hotline_incidents_open", line=LINE, state="acknowledged"))


def settle(va, call, r) -> None:
    settle_call(r, snapshot(va.config.lines()[0], call.caller, BASE_URL), call.sid, OFFICE)


def test_an_incident_is_open_while_missed_or_acknowledged(app, redis_url):
    r = client(redis_url)
    settle(app, answered_by_desk(app), r)                 # incident 1: answered, never open
    assert open_counts(app) == (0, 0)
    found = scrape(app)
    assert ("hotline_incidents_open", frozenset({("line", LINE), ("state", "missed")})) in found

    settle(app, missed_into_voicemail(app), r)            # incident 2: missed
    assert open_counts(app) == (1, 0)

    assert service.acknowledge(r, LINE, 2, "Anna", OFFICE).status == "ok"
    assert open_counts(app) == (0, 1)

    assert service.resolve(r, LINE, 2, "Anna", OFFICE + dt.timedelta(minutes=5), "fixed").status == "ok"
    assert open_counts(app) == (0, 0)


def test_resolving_a_missed_incident_at_once_closes_it(app, redis_url):
    store = IncidentStore(client(redis_url))
    for n in (1, 2, 3):
        store.open(LINE, f"CA{n:032d}", {"state": "missed"}, OFFICE, 3)
    assert store.acknowledge(LINE, 3, "Anna", OFFICE) == "ok"
    assert open_counts(app) == (2, 1)
    assert store.resolve(LINE, 1, "Anna", OFFICE) == "ok"        # missed -> resolved in one step
    assert store.resolve(LINE, 1, "Anna", OFFICE) == "resolved"  # again: nothing changes
    assert store.acknowledge(LINE, 1, "Bo", OFFICE) == "resolved"
    assert open_counts(app) == (1, 1)


def test_settling_a_call_twice_counts_its_incident_once(app, redis_url):
    r = client(redis_url)
    call = missed_into_voicemail(app)
    settle(app, call, r)
    settle(app, call, r)
    assert open_counts(app) == (1, 0)


def test_an_open_incident_that_has_expired_is_no_longer_counted(app, redis_url):
    r = client(redis_url)
    settle(app, missed_into_voicemail(app), r)
    app.clock.at = OFFICE + dt.timedelta(seconds=KEPT - 60)
    assert open_counts(app) == (1, 0)
    app.clock.at = OFFICE + dt.timedelta(seconds=KEPT + 1)   # its hash has expired by now
    assert open_counts(app) == (0, 0)


def test_the_next_change_on_the_line_drops_expired_entries(redis_url):
    store = IncidentStore(client(redis_url))
    store.open(LINE, "CA" + "1" * 32, {"state": "missed"}, OFFICE, 3)
    later = OFFICE + dt.timedelta(seconds=KEPT + 1)
    store.open(LINE, "CA" + "2" * 32, {"state": "missed", "started_at": later.isoformat()}, later, 3)
    assert store.redis.zrange(keys.incidents_open(LINE, "missed"), 0, -1) == [b"2"]


def test_the_open_sets_expire_like_the_incidents(app, redis_url):
    r = client(redis_url)
    settle(app, missed_into_voicemail(app), r)
    assert KEPT - 60 < r.ttl(keys.incidents_open(LINE, "missed")) <= KEPT
    assert service.acknowledge(r, LINE, 1, "Anna", OFFICE).status == "ok"
    assert KEPT - 60 < r.ttl(keys.incidents_open(LINE, "acknowledged")) <= KEPT


def test_settle_marks_due_and_how_long_the_oldest_has_waited(app, redis_url):
    r = client(redis_url)
    at = OFFICE.timestamp()
    found = scrape(app)
    assert ("hotline_settle_marks_due", frozenset()) in found
    assert value(found, "hotline_settle_marks_due") == 0
    assert value(found, "hotline_settle_marks_overdue_seconds") == 0
    r.zadd(keys.settle_due(), {'{"sid":"CA1"}': at - 90, '{"sid":"CA2"}': at - 30, '{"sid":"CA3"}': at + 60})
    found = scrape(app)
    assert value(found, "hotline_settle_marks_due") == 2
    assert value(found, "hotline_settle_marks_overdue_seconds") == 90


def test_a_redis_that_is_down_leaves_the_other_metrics(voice_app, monkeypatch, redis_server, caplog):
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    va = voice_app(notify_config(), at=OFFICE)
    IncidentStore(client(redis_server.url)).open(LINE, "CA" + "1" * 32, {"state": "missed"}, OFFICE, 3)
    assert value(scrape(va), "hotline_incidents_open", line=LINE, state="missed") == 1
    redis_server.stop()
    try:
        found = scrape(va)
    finally:
        redis_server.start()
    assert value(found, "hotline_redis_up") == 0
    assert ("hotline_config_refused_errors", frozenset()) in found
    assert not any(name.startswith(("hotline_incidents_open", "hotline_settle_marks")) for name, _ in found)
    assert not any(rec.exc_info for rec in caplog.records)   # a warning line, no traceback


def test_apps_made_again_in_one_process_show_the_gauges_once(voice_app, monkeypatch):
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    voice_app(notify_config(), at=OFFICE)
    va = voice_app(notify_config(), at=OFFICE)
    text = va.client.get("/metrics", headers=AUTH).get_data(as_text=True)
    for name in ("hotline_incidents_open", "hotline_settle_marks_due", "hotline_settle_marks_overdue_seconds"):
        assert text.count(f"# TYPE {name} gauge\n") == 1, name
