"""Ended calls in /metrics: counted once each by the settle pump, from the call's log as it is then,
into Redis, and read from there by the scrape (ivr.metrics.ended through ivr.incidents.due.pump_once)."""
from __future__ import annotations

import datetime as dt

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ivr import keys, metrics
from ivr.calls.event_json import encode_event
from ivr.calls.events import END_ID, event
from ivr.incidents import due
from ivr.metrics import ended
from ivr.sms.jobs import queue
from tests.incident_helpers import OFFICE, notify_config
from tests.sms_helpers import client

AT = OFFICE
CALLER = "+4534412350"


_REDIS: list = []


@pytest.fixture(autouse=True)
def _client(redis_url):
    _REDIS[:] = [client(redis_url)]


def _counted(line: str, service: str, route: str, outcome: str) -> int:
    return ended.counts(_REDIS[0]).get((line, service, route, outcome), 0)


def _log(r, sid: str, line: str, *events: tuple[str, str, dt.datetime, dict]) -> None:
    """Append events (kind, dedup, moment, data) to call `sid`'s log, in this order."""
    for kind, dedup, at, data in events:
        r.rpush(keys.call_events(sid), encode_event(event(sid, line, kind, dedup, at, **data)))


def _end_mark(r, hotline, sid: str) -> str:
    ev = event(sid, hotline.line, "end", "end", AT, call_status="completed")
    assert ev["id"] == END_ID
    key, score, member = due.mark(hotline, ev, AT, CALLER, "")
    r.zadd(key, {member: score})
    return member


SERVICE = ("service", "service:it", AT, {"service": "it", "decision": {"route": "office_hours"}})


def test_an_ended_call_is_counted_by_its_log_once_however_often_its_end_mark_is_claimed(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    sid = "CA" + "e" * 32
    _log(r, sid, hotline.line, ("start", "start", AT, {}), SERVICE,
         ("outcome", "answered", AT, {"outcome": "answered"}), ("end", "end", AT, {"call_status": "completed"}))
    before = _counted(hotline.line, "it", "office_hours", "answered")
    member = _end_mark(r, hotline, sid)
    assert due.pump_once(r, AT.timestamp()) == 1
    assert _counted(hotline.line, "it", "office_hours", "answered") == before + 1
    r.zadd(keys.settle_due(), {member: AT.timestamp()})       # claimed again (a lease ran out)
    assert due.pump_once(r, AT.timestamp()) == 1 and queue(r).count == 2   # settled again ...
    assert _counted(hotline.line, "it", "office_hours", "answered") == before + 1   # ... counted once
    assert r.ttl(keys.call_counted(sid)) > 86400


def test_a_dial_result_that_reached_redis_after_the_status_callback_is_in_the_count(redis_url):
    """Two web processes: the status callback's end was written first, the dial result's outcome
    (a moment earlier on the call) a little later. The pump folds the log as it is when it claims."""
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    sid = "CA" + "f" * 32
    _log(r, sid, hotline.line, ("start", "start", AT, {}), SERVICE,
         ("end", "end", AT + dt.timedelta(seconds=40), {"call_status": "completed"}),
         ("outcome", "answered", AT + dt.timedelta(seconds=39), {"outcome": "answered"}))
    answered = _counted(hotline.line, "it", "office_hours", "answered")
    abandoned = _counted(hotline.line, "it", "office_hours", "abandoned")
    _end_mark(r, hotline, sid)
    due.pump_once(r, AT.timestamp())
    assert _counted(hotline.line, "it", "office_hours", "answered") == answered + 1
    assert _counted(hotline.line, "it", "office_hours", "abandoned") == abandoned


def test_only_a_calls_end_mark_counts_it(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    sid = "CA" + "d" * 32
    _log(r, sid, hotline.line, ("start", "start", AT, {}), SERVICE, ("outcome", "answered", AT, {"outcome": "answered"}))
    before = _counted(hotline.line, "it", "office_hours", "answered")
    ev = event(sid, hotline.line, "outcome", "answered", AT, outcome="answered")
    key, score, member = due.mark(hotline, ev, AT, CALLER, "")
    r.zadd(key, {member: score})
    assert due.pump_once(r, AT.timestamp()) == 1
    assert _counted(hotline.line, "it", "office_hours", "answered") == before
    assert not r.exists(keys.call_counted(sid))


def test_a_call_whose_log_is_gone_is_counted_as_unknown(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    before = _counted(hotline.line, "none", "none", "unknown")
    _end_mark(r, hotline, "CA" + "c" * 32)
    due.pump_once(r, AT.timestamp())
    assert _counted(hotline.line, "none", "none", "unknown") == before + 1


@pytest.mark.parametrize("failure", [RedisConnectionError("gone"), RuntimeError("a bug")])
def test_a_count_that_fails_is_logged_and_the_call_is_settled_all_the_same(redis_url, monkeypatch, caplog, failure):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    sid = "CA" + "b" * 32

    def failing(*args):
        raise failure
    monkeypatch.setattr(ended, "count_ended", failing)   # as the pump calls it, through ended.count_end
    redis_failures = metrics.REDIS_FAILURES.labels("metrics")._value.get()
    _end_mark(r, hotline, sid)
    assert due.pump_once(r, AT.timestamp()) == 1
    assert queue(r).count == 1 and r.zcard(keys.settle_due()) == 0
    assert f"call {sid}: its end could not be counted" in caplog.text
    expected = 1 if isinstance(failure, RedisConnectionError) else 0
    assert metrics.REDIS_FAILURES.labels("metrics")._value.get() == redis_failures + expected


def test_the_script_counts_only_the_first_time(redis_url):
    r = client(redis_url)
    sid = "CA" + "a" * 32
    _log(r, sid, "+4570112299", ("start", "start", AT, {}))
    assert ended.count_ended(r, "+4570112299", sid) is True
    assert ended.count_ended(r, "+4570112299", sid) is False


def test_the_scrape_reads_the_counts_from_redis_and_leaves_out_a_malformed_one(redis_url, caplog):
    from types import SimpleNamespace

    r = _REDIS[0]
    r.hset(keys.calls_ended(), mapping={'["+4570112299","it","office_hours","answered"]': 3,
                                        '["+4570112299","none","none","hung_up"]': 2,
                                        '["only two","labels"]': 9, "not json": 1})
    (family,) = ended.families(SimpleNamespace(redis=r))
    found = {(s.name, tuple(s.labels[k] for k in ended.LABELS)): s.value for s in family.samples}
    assert found == {("hotline_calls_total", ("+4570112299", "it", "office_hours", "answered")): 3,
                     ("hotline_calls_total", ("+4570112299", "none", "none", "hung_up")): 2}
    assert caplog.text.count("a count of ended calls is malformed") == 2


def test_without_redis_the_scrape_leaves_the_counts_out(caplog):
    from types import SimpleNamespace

    import redis

    silent = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert ended.families(SimpleNamespace(redis=silent)) == []
    assert "cannot read the counts of ended calls" in caplog.text
    assert ended.families(SimpleNamespace(redis=None)) == []


def test_a_call_to_a_number_that_is_no_hotline_is_counted_when_it_ends_once(voice_app, redis_url):
    """Such a call leaves no settle mark: the web process's observer counts its end (on the
    flusher), as the unknown line's, once however often Twilio repeats the status callback."""
    va = voice_app(at=AT)
    r = _REDIS[0]
    labels = ("unknown", "none", "none", "unknown_line")
    before = ended.counts(r).get(labels, 0)
    call = va.call("+4599999999")
    call.start()
    call.hang_up()
    call.hang_up()
    assert va.state.store.settle()
    assert ended.counts(r).get(labels, 0) == before + 1
    assert r.zcard(keys.settle_due()) == 0     # no mark: the pump has nothing to count it by
