"""/metrics in one process: token, names, labels, and values after a known sequence of calls and SMS."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from ivr.callsim import sign
from ivr.incidents import due
from ivr.sms.blast import BlastStore
from ivr.sms.ratelimit import RateLimiter
from ivr.sms.sender import Delivered, deliver
from ivr.sms.settings import SmsSettings
from ivr.sms.twilio_rest import client_from_env
from routing import decide
from tests.metrics_helpers import AUTH, TOKEN, samples, value
from tests.sms_helpers import client, make_blast, numbers
from tests.support.voice import AUTH_TOKEN, BASE_URL

AT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def app(voice_app, monkeypatch):
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    return voice_app(at=AT)


def scrape(va) -> dict:
    resp = va.client.get("/metrics", headers=AUTH)
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain; version=")
    return samples(resp.get_data(as_text=True))


def test_metrics_want_the_bearer_token(app):
    assert app.client.get("/metrics").status_code == 401
    assert app.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert app.client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert app.client.get("/metrics", headers=AUTH).status_code == 200


def test_metrics_are_off_without_a_token(voice_app, monkeypatch):
    monkeypatch.delenv("HOTLINE_METRICS_TOKEN", raising=False)
    va = voice_app(at=AT)
    resp = va.client.get("/metrics", headers=AUTH)
    assert resp.status_code == 404 and "HOTLINE_METRICS_TOKEN" in resp.get_data(as_text=True)


def test_calls_are_counted_by_line_service_route_and_outcome(app, redis_url):
    hotline = app.config.lines()[0]
    line = hotline.line
    route = decide(hotline.plan, "nexus", AT).route.value
    before = scrape(app)

    answered = app.call(line)
    answered.start()
    answered.press("1")
    answered.ring("accept")
    answered.hang_up()
    answered.hang_up()              # Twilio repeating the status callback counts nothing twice
    gave_up = app.call(line)
    gave_up.start()
    gave_up.hang_up()               # hung up in the menu

    ended_before_the_pump = scrape(app)
    assert app.state.store.settle()
    r = client(redis_url)
    due.pump_once(r, AT.timestamp() + 3600)   # `hotline worker` counts ended calls as it claims their end marks
    after = scrape(app)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("hotline_calls_started_total", line=line) == 2
    ended = {"answered": dict(service="nexus", route=route), "hung_up": dict(service="none", route="none")}
    for outcome, labels in ended.items():
        assert value(ended_before_the_pump, "hotline_calls_total", line=line, outcome=outcome, **labels) == \
            value(before, "hotline_calls_total", line=line, outcome=outcome, **labels), outcome
    assert delta("hotline_calls_total", line=line, service="nexus", route=route, outcome="answered") == 1
    assert delta("hotline_calls_total", line=line, service="none", route="none", outcome="hung_up") == 1
    assert delta("hotline_webhook_duration_seconds_count", endpoint="/voice") == 2
    assert delta("hotline_webhook_duration_seconds_count", endpoint="/voice/status") == 3
    assert delta("hotline_webhook_duration_seconds_bucket", endpoint="/voice", le="+Inf") == 2
    assert delta("hotline_webhook_duration_seconds_sum", endpoint="/voice") > 0
    assert delta("hotline_webhook_responses_total", endpoint="/voice/menu", status="200") == 1
    assert value(after, "hotline_config_info", version=app.config.version) == 1
    assert value(after, "hotline_config_refused_errors") == 0
    assert value(after, "hotline_spool_depth") == 0
    assert value(after, "hotline_redis_up") == 1
    # The queue gauges read RQ's own queue (the incidents module queues a job per call outcome).
    from ivr.sms.jobs import queue

    waiting = queue(client(redis_url)).count
    assert value(after, "hotline_queue_jobs", queue="sms") == waiting
    assert value(after, "hotline_queue_oldest_job_age_seconds", queue="sms") >= 0
    assert ("hotline_workers", frozenset()) in after


def test_queue_depth_and_oldest_job_age(app, redis_url):
    from ivr.sms.jobs import queue

    q = queue(client(redis_url))
    q.enqueue("ivr.sms.jobs.watch_blast", "nothing")
    q.enqueue("ivr.sms.jobs.watch_blast", "nothing either")
    found = scrape(app)
    assert value(found, "hotline_queue_jobs", queue="sms") == 2
    assert 0 <= value(found, "hotline_queue_oldest_job_age_seconds", queue="sms") < 60


def test_redis_failures_and_the_spool_depth(voice_app, monkeypatch, redis_server):
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    va = voice_app(at=AT)
    before = scrape(va)
    redis_server.stop()
    try:
        call = va.call()
        call.start()
        after = scrape(va)
    finally:
        redis_server.start()
    assert value(after, "hotline_redis_failures_total", component="call_log") > \
        value(before, "hotline_redis_failures_total", component="call_log")
    assert value(after, "hotline_spool_depth") == 1
    assert value(after, "hotline_redis_up") == 0


def test_the_journals_bytes_are_those_written_behind_and_not_yet_in_redis(voice_app, monkeypatch):
    import threading

    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)
    va = voice_app(at=AT)
    store = va.state.store
    assert value(scrape(va), "hotline_journal_bytes") == 0
    held = threading.Event()
    real = store.behind._write
    store.behind._write = lambda items, texts: (held.wait(10), real(items, texts))
    from tests.support.voice import AUTH_TOKEN, BASE_URL

    params = va.call()._call_params()
    answer = va.client.post("/voice", data=params,   # not va.post: that waits for the write-behind
                            headers={"X-Twilio-Signature": sign(AUTH_TOKEN, BASE_URL + "/voice", params)})
    assert answer.status_code == 200 and "<Gather" in answer.get_data(as_text=True)
    waiting = value(scrape(va), "hotline_journal_bytes")
    assert waiting == store.behind.journal.path.stat().st_size > 0
    held.set()
    assert store.settle()
    deadline = time.monotonic() + 10
    while value(scrape(va), "hotline_journal_bytes") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert value(scrape(va), "hotline_journal_bytes") == 0


def test_sms_sent_retried_failed_and_delivered_by_kind(app, redis_url, fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake_twilio.base_url)
    store = BlastStore(client(redis_url))
    blast = make_blast("m1", 2)
    good, bad = numbers(2)
    store.create(blast, [good, bad])
    settings = SmsSettings(lease=5, backoff=0.01, backoff_cap=0.05)
    limiter = RateLimiter(store.redis, blast.sender, 100)
    before = scrape(app)

    fake_twilio.fail_next(1)                               # one 429, then accepted
    fake_twilio.fail_for(bad)                              # 21211: refused for good
    assert deliver(store, client_from_env(), blast, good, limiter, settings) is Delivered.SENT
    assert deliver(store, client_from_env(), blast, bad, limiter, settings) is Delivered.FAILED
    sid = store.recipient("m1", good)["sid"]
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    headers = {"X-Twilio-Signature": sign(AUTH_TOKEN, f"{BASE_URL}/sms/status", params)}
    assert app.client.post("/sms/status", data=params, headers=headers).status_code == 204
    assert app.client.post("/sms/status", data=params, headers=headers).status_code == 204   # repeated

    after = scrape(app)
    for result, count in (("sent", 1), ("retried", 1), ("failed", 1), ("delivered", 1)):
        got = value(after, "hotline_sms_total", kind="down", result=result) - \
            value(before, "hotline_sms_total", kind="down", result=result)
        assert got == count, result
    assert value(after, "hotline_webhook_responses_total", endpoint="/sms/status", status="204") - \
        value(before, "hotline_webhook_responses_total", endpoint="/sms/status", status="204") == 2


def test_a_refused_config_shows_in_the_metrics(tmp_path, monkeypatch):
    from ivr import create_app
    from ivr.config.lastgood import load_or_last_good
    from tests.examples import EXAMPLES

    brondby = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")
    live, keep = tmp_path / "hotlines", tmp_path / "keep"
    live.mkdir()
    (live / "brondby.yaml").write_text(brondby, encoding="utf-8")
    good, _ = load_or_last_good(live, keep)
    (live / "brondby.yaml").write_text(brondby.replace('number: "4328 2020"', 'number: "4328"'), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(live))
    monkeypatch.setenv("HOTLINE_LAST_GOOD_DIR", str(keep))
    monkeypatch.setenv("HOTLINE_METRICS_TOKEN", TOKEN)

    def make():
        return create_app(redis_url=None, auth_token="t", public_base_url=None, spool_dir=str(tmp_path / "spool"),
                          verify_signatures=False, plugins=())

    before = samples(make().test_client().get("/metrics", headers=AUTH).get_data(as_text=True))
    found = samples(make().test_client().get("/metrics", headers=AUTH).get_data(as_text=True))
    assert value(found, "hotline_config_refused_errors") == 1
    assert value(found, "hotline_config_info", version=good.version) == 1
    failures = "hotline_config_reload_failures_total"
    assert value(found, failures) - value(before, failures) == 1


def test_kept_children_are_the_ones_labels_gives_so_counts_land_in_the_scrape():
    from ivr import metrics

    line = "+4570112299"
    before = metrics.CALLS_STARTED.labels(line)._value.get()
    for _ in range(2):
        metrics.call_started({"type": "start", "line": line, "sid": "CA1"})
    assert metrics._child(metrics.CALLS_STARTED, (line,)) is metrics.CALLS_STARTED.labels(line)
    assert metrics.CALLS_STARTED.labels(line)._value.get() == before + 2


def test_a_webhooks_kept_children_are_the_ones_labels_gives_so_its_answers_land_in_the_scrape():
    from ivr import metrics

    endpoint = "/voice/kept-children-test"
    answers, durations = metrics.WEBHOOK_RESPONSES.labels(endpoint, "503"), metrics.WEBHOOK_SECONDS.labels(endpoint)
    before = answers._value.get(), durations._sum.get()
    for _ in range(2):
        metrics.webhook(endpoint, 503, 0.25)
    metrics.webhook(endpoint, 200, 0.5)
    assert metrics._webhook_children[(endpoint, 503)] == (durations, answers)
    assert answers._value.get() == before[0] + 2
    assert metrics.WEBHOOK_RESPONSES.labels(endpoint, "200")._value.get() == 1
    assert durations._sum.get() == before[1] + 1.0
