"""Outages on the line: status announced first, calls linked, the staff entry, SMS receipts."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from ivr.callsim import sign
from ivr.config import load_config
from ivr.outages import pins, service
from ivr.outages.store import OutageStore
from ivr.sms.blast import BlastStore
from tests.sms_helpers import client
from tests.support.voice import AUTH_TOKEN, BASE_URL, CALLER, TEST_YAML, config_from_text

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
T0 = dt.datetime(2026, 11, 23, 8, 12, tzinfo=dt.timezone.utc)  # Monday 09:12 in Copenhagen
PIN = "2468"
STAFF_YAML = TEST_YAML + f"""
systems:
  nexus: {{name: Nexus}}
  network: {{name: Netværket}}
sites:
  homes:
    - {{name: Hjem 1, number: "+45 34 41 23 70"}}
    - {{name: Hjem 2, number: "+45 34 41 23 71"}}
outages:
  texts: {{down: "{{system}} er nede", restored: "{{system}} virker"}}
  staff:
    callers: ["{CALLER}"]
    pin_hash: "{pins.hash_pin(PIN, iterations=1000)}"
    max_attempts: 3
    lockout_minutes: 15
"""


@pytest.fixture(autouse=True)
def sender(monkeypatch, fake_twilio):
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)


def test_callers_hear_the_open_outage_first_and_calls_about_it_are_linked(voice_app, redis_url):
    cfg = load_config(BRONDBY)
    hotline = cfg.lines()[0]
    oid = service.declare(client(redis_url), hotline, "nexus", "", "test", T0).outage.id
    va = voice_app(cfg, at=T0 + dt.timedelta(minutes=30))
    call = va.call()
    first = call.start()
    assert first.says[0] == "Nexus har været nede siden klokken 09:12. Vi arbejder på sagen."
    assert first.kind == "gather"  # the menu still follows
    call.press("1")  # Nexus
    assert va.record(call.sid)["extra"]["outage_id"] == oid
    assert OutageStore(client(redis_url)).calls(oid) == [call.sid]

    other = va.call(caller="+4534412351")
    other.start()
    other.press("2")  # network: no open outage
    assert "outage_id" not in va.record(other.sid)["extra"]


def test_no_announcement_once_restored(voice_app, redis_url):
    cfg = load_config(BRONDBY)
    r = client(redis_url)
    service.declare(r, cfg.lines()[0], "network", "", "test", T0)
    service.restore(r, cfg.lines()[0], "network", "test", T0 + dt.timedelta(minutes=5))
    va = voice_app(cfg, at=T0 + dt.timedelta(minutes=30))
    assert not any("har været nede" in s for s in va.call().start().says)


def _staff_call(va, caller=CALLER):
    call = va.call(caller=caller)
    call.start()
    call.press("2")
    return call, call.press("3")


def test_allowed_caller_with_the_pin_declares_and_restores(voice_app, redis_url, caplog):
    cfg = config_from_text(STAFF_YAML)
    va = voice_app(cfg, at=T0)
    caplog.set_level(logging.DEBUG)
    call, turn = _staff_call(va)
    assert turn.says == ["Indtast din kode, og afslut med firkant."]
    assert "Tryk 1 for at melde et nedbrud" in call.press(f"{PIN}#").says[0]
    assert call.press("1").says == ["Tryk 1 for Nexus.", "Tryk 2 for Netværket."]
    done = call.press("1")
    assert done.says[0] == "Nedbrud på Nexus er meldt. Der sendes SMS til 2 modtagere." and done.kind == "hangup"
    r = client(redis_url)
    (outage,) = OutageStore(r).list("+4570112299")
    assert (outage.system, outage.state.value, outage.declared_by) == ("nexus", "open", f"phone:{CALLER}")

    again, _ = _staff_call(va)
    again.press(f"{PIN}#")
    again.press("1")
    assert again.press("1").says[0].startswith("Nedbruddet på Nexus er allerede meldt")
    back, _ = _staff_call(va)
    back.press(f"{PIN}#")
    back.press("2")
    assert back.press("1").says[0] == "Nexus er meldt i drift igen. Der sendes SMS til 2 modtagere."
    assert [b for b in OutageStore(r).blasts(outage.id)] == [f"outage-{outage.id}-down", f"outage-{outage.id}-restored"]
    assert BlastStore(r).progress(f"outage-{outage.id}-down")["total"] == 2
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert f"{PIN}" not in logged and f"{PIN}" not in str(va.record(call.sid))


def test_three_wrong_pins_lock_the_number_out(voice_app, redis_url):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    call, _ = _staff_call(va)
    assert call.press("1111#").says[0] == "Forkert kode."
    call.press("2222#")
    locked = call.press("3333#")
    assert locked.says[:2] == ["Forkert kode.", "For mange forkerte koder. Prøv igen senere."]
    assert locked.kind == "gather" and locked.url.endswith("/voice")   # back at the top menu
    later, turn = _staff_call(va)
    assert turn.says[0] == "For mange forkerte koder. Prøv igen senere." and turn.kind == "gather"
    ttl = client(redis_url).ttl("hotline:staff:attempts:+4570112299:" + CALLER)
    assert 14 * 60 < ttl <= 15 * 60


def test_callers_not_on_the_list_never_get_the_pin_prompt(voice_app):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    call, turn = _staff_call(va, caller="+4534412399")
    # Someone who pressed the staff key by mistake is taken back to the menu, not hung up on.
    assert turn.says[0] == "Denne funktion er ikke tilgængelig." and "Farvel." not in turn.says
    assert turn.kind == "gather" and turn.says[-1].startswith("Tryk 1 for fagsystemet.")
    assert call.press("1").kind == "dial"


def test_the_steps_after_the_pin_cannot_be_reached_directly(voice_app, redis_url):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    call = va.call()
    call.start()
    turn = call.send("/voice/staff/system?do=declare&t=1", call._call_params(Digits="1"))
    assert turn.says[0] == "Denne funktion er ikke tilgængelig." and turn.kind == "hangup"
    assert OutageStore(client(redis_url)).list("+4570112299") == []


def _post_status(va, params, token=AUTH_TOKEN):
    url = BASE_URL + "/sms/status"
    return va.client.post("/sms/status", data=params, headers={"X-Twilio-Signature": sign(token, url, params)})


def test_status_callbacks_are_signed_and_only_move_forward(voice_app, redis_url):
    va = voice_app(load_config(BRONDBY), at=T0)
    store = BlastStore(client(redis_url))
    from tests.sms_helpers import make_blast

    store.create(make_blast("s1", 1), ["+4534412350"])
    store.claim("s1", "+4534412350", "t", 30)
    sid = "SM" + "c" * 32
    store.mark_sent("s1", "+4534412350", sid, "queued", 1)
    base = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "To": "+4534412350", "From": "+4570112230"}
    assert va.client.post("/sms/status", data={**base, "MessageStatus": "sent"}).status_code == 403
    assert _post_status(va, {**base, "MessageStatus": "delivered"}).status_code == 204
    assert _post_status(va, {**base, "MessageStatus": "sent"}).status_code == 204   # late, ignored
    assert store.recipient("s1", "+4534412350")["status"] == "delivered"
    assert _post_status(va, {**base, "MessageSid": "nonsense", "MessageStatus": "sent"}).status_code == 400
