"""POST /sms/incoming in-process: signed, TwiML <Message> replies, strangers change nothing."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest

from ivr.callsim import sign
from ivr.incidents import paging
from ivr.incidents.jobs import settle_call, snapshot
from ivr.incidents.store import IncidentStore
from tests.incident_helpers import OFFICE, TECH1, TECH2, missed_into_voicemail, notify_config, paged_missed_call
from tests.sms_helpers import client
from tests.support.voice import AUTH_TOKEN, BASE_URL

LINE = "+4570112299"


@pytest.fixture
def paged(voice_app, redis_url, monkeypatch):
    """An app whose incident 1 (a missed call) has paged tech1 and tech2 (no worker: sending waits)."""
    return paged_missed_call(voice_app, redis_url, monkeypatch, LINE)


def sms(app, sender: str, body: str, token: str = AUTH_TOKEN) -> tuple[int, str]:
    url = BASE_URL + "/sms/incoming"
    params = {"MessageSid": "SM" + "7" * 32, "From": sender, "To": LINE, "Body": body}
    resp = app.client.post("/sms/incoming", data=params, headers={"X-Twilio-Signature": sign(token, url, params)})
    if resp.status_code != 200:
        return resp.status_code, ""
    root = ET.fromstring(resp.get_data(as_text=True))
    assert root.tag == "Response" and resp.mimetype == "text/xml"
    return 200, " ".join(m.text or "" for m in root.iter("Message"))


def test_an_unsigned_reply_is_refused(paged):
    app, _ = paged
    assert sms(app, TECH1, "OK 1", token="wrong")[0] == 403
    assert IncidentStore(paged[1]).get(LINE, 1)["state"] == "missed"


def test_a_stranger_changes_nothing_and_is_logged(paged, caplog):
    app, r = paged
    with caplog.at_level(logging.WARNING, logger="ivr.incidents.replies"):
        assert sms(app, "+4534412399", "OK 1") == (200, "")
    assert "+4534412399, who was never paged" in caplog.text
    assert IncidentStore(r).get(LINE, 1)["state"] == "missed"
    assert sms(app, "not-a-number", "OK") == (200, "")


def test_ok_takes_the_latest_done_closes_and_an_unknown_number_is_said_so(paged):
    app, r = paged
    assert sms(app, TECH2, "OK 5") == (200, "Opkald 5 er ikke blandt dem, du har fået besked om.")
    assert sms(app, TECH2, "OK") == (200, "Tak. Opkald 1 er dit (+4534412350).")
    incident = IncidentStore(r).get(LINE, 1)
    assert incident["state"] == "acknowledged" and incident["acknowledged_by"] == "Tekniker 2 (+4534412363)"
    assert sms(app, TECH1, "DONE 1") == (200, "Opkald 1 er lukket.")
    incident = IncidentStore(r).get(LINE, 1)
    assert incident["state"] == "resolved" and incident["resolved_by"] == "Tekniker 1 (+4534412362)"
    assert incident["acknowledged_by"] == "Tekniker 2 (+4534412363)"   # who took it stays in the record
    assert sms(app, TECH1, "OK 1") == (200, "Opkald 1 er lukket.")


def test_a_reply_while_redis_is_down_is_answered_safely_and_logged(tmp_path, caplog):
    from tests.support.redis_server import free_port
    from tests.support.voice import make_voice_app

    app = make_voice_app(f"redis://127.0.0.1:{free_port()}/0", tmp_path / "spool", notify_config(), OFFICE)
    with caplog.at_level(logging.ERROR, logger="ivr.incidents.web"):
        assert sms(app, TECH1, "OK 1") == (200, "")
    assert "Redis unavailable" in caplog.text


def test_a_failing_reply_handler_still_answers_valid_twiml(paged, monkeypatch, caplog):
    from ivr.incidents import replies

    def broken(*args):
        raise ValueError("boom")

    monkeypatch.setattr(replies, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="ivr.incidents.web"):
        assert sms(paged[0], TECH1, "OK 1") == (200, "")
    assert "SMS reply from +4534412362 not handled" in caplog.text


def test_many_people_answering_ok_at_once_give_it_to_exactly_one(paged):
    from concurrent.futures import ThreadPoolExecutor

    from ivr.incidents import service

    _, r = paged
    url = f"redis://127.0.0.1:{r.connection_pool.connection_kwargs['port']}/0"
    with ThreadPoolExecutor(8) as pool:   # each its own connection, as separate web workers would
        changes = list(pool.map(lambda i: service.acknowledge(client(url), LINE, 1, f"person {i}", OFFICE),
                                range(16)))
    winners = [c for c in changes if c.status == "ok"]
    assert len(winners) == 1
    assert {c.by for c in changes if c.status == "already"} == {winners[0].by}
    assert [h["state"] for h in IncidentStore(r).get(LINE, 1)["history"]] == ["missed", "acknowledged"]


def test_without_an_sms_sender_the_page_says_so_loudly(voice_app, redis_url, monkeypatch, caplog):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("TWILIO_FROM_NUMBER", raising=False)
    monkeypatch.delenv("TWILIO_MESSAGING_SERVICE_SID", raising=False)
    app = voice_app(notify_config(), at=OFFICE)
    call = missed_into_voicemail(app)
    settle_call(client(redis_url), snapshot(app.config.lines()[0], call.caller, BASE_URL), call.sid, OFFICE)
    with caplog.at_level(logging.ERROR, logger="ivr.incidents.paging"):
        assert paging.page(LINE, 1, 0) == "no sender"
    assert "NOBODY PAGED, no SMS sender" in caplog.text


def test_calls_joining_an_outage_alert_after_its_page_get_one_follow_up_page(voice_app, redis_url, monkeypatch):
    from rq.registry import ScheduledJobRegistry

    from ivr.outages.store import OutageStore
    from ivr.sms.blast import BlastStore
    from ivr.sms.jobs import queue
    from tests.incident_helpers import outage_yaml
    from tests.support.voice import config_from_text

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LINE)
    r = client(redis_url)
    OutageStore(r).declare(LINE, "nexus", {"message": "", "declared_by": "test"}, OFFICE)
    app = voice_app(config_from_text(outage_yaml("1h")), at=OFFICE)
    hotline = app.config.lines()[0]

    def missed() -> None:
        call = missed_into_voicemail(app)
        settle_call(r, snapshot(hotline, call.caller, BASE_URL), call.sid, OFFICE)

    def follow_ups() -> list[str]:
        return [j for j in ScheduledJobRegistry(queue=queue(r)).get_job_ids() if "followup" in j]

    missed()
    assert paging.page(LINE, 1, 0) == "sent"          # the grouped page went out naming call 1
    missed()                                          # 2 and 3 come later: one follow-up for both
    missed()
    assert follow_ups() == ["hotline-followup-4570112299-1-2"]
    assert paging.follow_up_page(LINE, 1) == "sent"
    body = BlastStore(r).get("incident-4570112299-1-f2").body
    assert body.startswith("2 ubesvarede opkald til Testlinjen") and "2 fra" in body and "3 fra" in body
    assert BlastStore(r).numbers("incident-4570112299-1-f2") == [TECH1, TECH2]
    assert paging.follow_up_page(LINE, 1) == "nothing"  # run again: nothing new, nothing sent
    missed()                                          # a later one gets a follow-up of its own
    assert "hotline-followup-4570112299-1-4" in follow_ups()
