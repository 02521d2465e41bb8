"""Incidents from the call log: numbering, states, history, and `hotline incidents`."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ivr import keys
from ivr.cli import main
from ivr.incidents import due, service
from ivr.incidents.jobs import settle_call, snapshot
from ivr.incidents.model import Verdict, verdict
from ivr.incidents.store import IncidentStore
from tests.incident_helpers import OFFICE, answered_by_desk, missed_into_voicemail, notify_config
from tests.sms_helpers import client

LATER = OFFICE + dt.timedelta(minutes=3)


@pytest.mark.parametrize("record,final,expected", [
    ({"outcome": "answered"}, False, Verdict.ANSWERED),
    ({"outcome": "voicemail"}, False, Verdict.MISSED),
    ({"outcome": "message"}, False, Verdict.MISSED),
    ({"outcome": "abandoned"}, False, Verdict.MISSED),
    ({"outcome": "no_answer", "detail": "end number"}, False, Verdict.MISSED),
    ({"outcome": "no_answer", "detail": "voicemail greeting played, no message left"}, False, Verdict.PENDING),
    ({"outcome": "no_answer", "detail": "voicemail greeting played, no message left"}, True, Verdict.MISSED),
    ({"outcome": "no_answer", "detail": "voicemail greeting played", "ended_at": "x"}, False, Verdict.MISSED),
    ({"outcome": "fallback"}, False, Verdict.PENDING),
    ({"outcome": "fallback", "attempts": [{"step": "fallback", "accepted_by": "+4534412361"}]}, False,
     Verdict.ANSWERED),
    ({"outcome": "error", "attempts": [{"step": "fallback", "accepted_by": None}]}, False, Verdict.MISSED),
    ({"outcome": "fallback", "ended_at": "x"}, False, Verdict.MISSED),
    ({"outcome": "hung_up"}, True, Verdict.NONE),
    ({"outcome": "said"}, True, Verdict.NONE),
    ({"outcome": "staff"}, True, Verdict.NONE),
    ({"outcome": "in_progress"}, False, Verdict.PENDING),
])
def test_what_a_call_record_means_for_its_incident(record, final, expected):
    assert verdict(record, final) is expected


@pytest.fixture
def app(voice_app):
    return voice_app(notify_config(), at=OFFICE)


def _settle(app, redis, call, now=LATER):
    hotline = app.config.lines()[0]
    return settle_call(redis, snapshot(hotline, call.caller, "https://hotline.example.org"), call.sid, now)


def test_a_call_into_voicemail_is_missed_incident_1_and_settling_again_finds_it(app, redis_url):
    r = client(redis_url)
    call = missed_into_voicemail(app)
    assert _settle(app, r, call) == (Verdict.MISSED, 1)
    assert _settle(app, r, call) == (Verdict.MISSED, 1)  # a repeated job numbers nothing twice
    incident = IncidentStore(r).get("+4570112299", 1)
    assert incident["state"] == "missed" and incident["call_sid"] == call.sid
    assert incident["from"] == "+4534412350" and incident["service"] == "system" and incident["target"] == "desk"
    assert incident["recording_url"].endswith("/Recordings/RE1")
    assert incident["history"] == [{"state": "missed", "by": "", "at": LATER.isoformat()}]
    assert IncidentStore(r).of_call(call.sid) == ("+4570112299", 1)


def test_an_answered_call_is_closed_at_once_with_who_took_it_and_numbers_count_up(app, redis_url):
    r = client(redis_url)
    first = missed_into_voicemail(app)
    second = answered_by_desk(app)
    assert _settle(app, r, first)[1] == 1
    assert _settle(app, r, second) == (Verdict.ANSWERED, 2)
    incident = IncidentStore(r).get("+4570112299", 2)
    assert incident["state"] == "answered" and incident["answered_by"] == "+4534412360"
    assert incident.get("alert") is None  # nobody is paged about an answered call
    assert service.acknowledge(r, "+4570112299", 2, "Anna", LATER).status == "answered"


def test_a_caller_who_hangs_up_in_the_menu_gets_no_incident(app, redis_url):
    r = client(redis_url)
    call = app.call()
    call.start()
    call.hang_up()
    assert _settle(app, r, call) == (Verdict.NONE, None)
    assert IncidentStore(r).lines() == []


def test_numbers_are_per_hotline(redis_url):
    store = IncidentStore(client(redis_url))
    assert store.open("+4570112299", "CA" + "1" * 32, {"state": "missed"}, OFFICE, 3) == (1, True)
    assert store.open("+4570112298", "CA" + "2" * 32, {"state": "missed"}, OFFICE, 3) == (1, True)
    assert store.open("+4570112299", "CA" + "3" * 32, {"state": "missed"}, OFFICE, 3) == (2, True)
    assert store.find(1) == [("+4570112298", 1), ("+4570112299", 1)]
    assert store.redis.ttl("hotline:incident:+4570112299:1") > 2 * 86400


def test_acknowledge_then_resolve_keeps_the_history_and_refuses_a_second_taker(app, redis_url):
    r = client(redis_url)
    _settle(app, r, missed_into_voicemail(app))
    assert service.acknowledge(r, "+4570112299", 1, "Anna", LATER).status == "ok"
    again = service.acknowledge(r, "+4570112299", 1, "Bo", LATER)
    assert (again.status, again.by) == ("already", "Anna")
    assert service.resolve(r, "+4570112299", 1, "Anna", LATER, "lock replaced").status == "ok"
    history = IncidentStore(r).get("+4570112299", 1)["history"]
    assert [(h["state"], h["by"]) for h in history] == [("missed", ""), ("acknowledged", "Anna"), ("resolved", "Anna")]
    assert history[-1]["note"] == "lock replaced"


def test_cli_lists_shows_acknowledges_and_resolves(app, redis_url, monkeypatch, capsys):
    r = client(redis_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    _settle(app, r, missed_into_voicemail(app))
    _settle(app, r, answered_by_desk(app))
    capsys.readouterr()
    assert main(["incidents", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(i["id"], i["state"]) for i in listed] == [(2, "answered"), (1, "missed")]
    for field in ("id", "line", "call_sid", "state", "service", "from", "started_at", "acknowledged_by",
                  "acknowledged_at", "resolved_at", "recording_url", "notified"):
        assert field in listed[0], field
    assert main(["incidents", "--state", "missed", "--line", "+45 70 11 22 99", "--json"]) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == [1]
    assert main(["incidents", "ack", "1", "--by", "Anna"]) == 0
    assert "acknowledged by Anna" in capsys.readouterr().out
    assert main(["incidents", "ack", "1", "--by", "Bo"]) == 1
    assert "already taken by Anna" in capsys.readouterr().err
    assert main(["incidents", "resolve", "1", "--note", "called back"]) == 0
    assert "resolved by" in capsys.readouterr().out
    assert main(["incidents", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "resolved" and shown["acknowledged_by"] == "Anna" and shown["resolved_at"]
    assert shown["history"][-1]["note"] == "called back"
    assert main(["incidents", "show", "1"]) == 0
    text = capsys.readouterr().out
    assert "incident 1 on +4570112299" in text and "resolved" in text


def test_cli_errors_are_one_line_with_exit_codes(redis_url, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["incidents", "show", "99"]) == 1
    assert capsys.readouterr().err.strip() == "hotline: no incident 99"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["incidents"]) == 1
    assert "cannot reach Redis" in capsys.readouterr().err
    monkeypatch.delenv("REDIS_URL")
    assert main(["incidents", "--since", "yesterday"]) == 2


def test_cli_asks_for_the_line_when_two_hotlines_have_the_number(redis_url, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    store = IncidentStore(client(redis_url))
    store.open("+4570112299", "CA" + "1" * 32, {"state": "missed"}, OFFICE, 3)
    store.open("+4570112230", "CA" + "2" * 32, {"state": "missed"}, OFFICE, 3)
    assert main(["incidents", "ack", "1", "--by", "Anna"]) == 2
    assert "exists on several hotlines: choose one with --line" in capsys.readouterr().err
    assert main(["incidents", "ack", "1", "--by", "Anna", "--line", "+4570112230"]) == 0
    assert store.get("+4570112230", 1)["state"] == "acknowledged"
    assert store.get("+4570112299", 1)["state"] == "missed"


def test_settling_one_call_many_times_at_once_numbers_it_once_and_pages_once(app, redis_url):
    from concurrent.futures import ThreadPoolExecutor

    from rq import Queue

    call = missed_into_voicemail(app)
    hotline = app.config.lines()[0]
    snap = snapshot(hotline, call.caller, "https://hotline.example.org")
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: settle_call(client(redis_url), snap, call.sid, LATER), range(16)))
    assert set(found) == {(Verdict.MISSED, 1)}
    r = client(redis_url)
    assert IncidentStore(r).lines() == ["+4570112299"] and not r.exists("hotline:incident:+4570112299:2")
    pages = [j for j in Queue("sms", connection=r).get_jobs() if j.func_name.endswith("paging.page")]
    assert [j.id for j in pages] == ["hotline-page-4570112299-1-0"]


@pytest.mark.parametrize("status,expected", [("no-answer", "missed"), ("completed", "answered")])
def test_a_call_twilio_sent_to_the_fallback_url_is_settled_when_that_dial_ends(app, redis_url, status, expected):
    from rq import Queue

    r = client(redis_url)
    call = app.call()
    params = call._call_params(ErrorCode="11200")
    turn = call.send("/voice/fallback", params)
    assert turn.kind == "dial"
    settles = lambda: [j for j in Queue("sms", connection=r).get_jobs() if j.func_name.endswith("jobs.settle")]  # noqa: E731
    assert r.zcard(keys.settle_due()) == 0   # the fallback's own dial decides
    call.send(turn.action, call._call_params(DialCallStatus=status, DialCallDuration="30"))
    assert r.zcard(keys.settle_due()) == 1 and settles() == []   # marked with the event; the worker enqueues
    assert due.pump_once(r, LATER.timestamp()) == 1
    assert len(settles()) == 1 and r.zcard(keys.settle_due()) == 0
    verdict_, number = _settle(app, r, call)
    incident = IncidentStore(r).get("+4570112299", number)
    assert incident["state"] == expected and incident["outcome"] == "fallback"
    if expected == "answered":
        assert incident["answered_by"] == "+4534412361"   # the fallback number (the duty)
