"""Requests Twilio never sends: other methods, oversized bodies, Unicode digits, a CallSid reused
on another line."""
from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from ivr.callsim import sign
from ivr.config.load import Config, load_text
from tests.support.voice import AUTH_TOKEN, BASE_URL, CALLER, TEST_YAML, config_from_text

MONDAY_22 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)
LINE = "+4570112299"


@pytest.fixture
def cfg():
    return config_from_text(TEST_YAML)


def signed(va, method: str, path: str, params: dict):
    """Send `params` signed the way Twilio signs a POST of them to `path`."""
    signature = sign(AUTH_TOKEN, BASE_URL + path, params if method == "POST" else {})
    return va.client.open(path, method=method, data=params, headers={"X-Twilio-Signature": signature})


def call_params(sid: str, line: str = LINE, **extra) -> dict:
    return {"CallSid": sid, "From": CALLER, "To": line, "Called": line, **extra}


# -- only POST ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("path", ["/voice", "/voice/menu?p=&t=0&n=0", "/voice/status", "/voice/staff/pin", "/sms/status"])
def test_other_methods_get_a_quiet_405_and_write_nothing(cfg, voice_app, caplog, method, path):
    va = voice_app(cfg)
    sid = "CA" + "8" * 32
    with caplog.at_level(logging.INFO):
        resp = signed(va, method, path, call_params(sid))
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "POST"
    assert b"<Response" not in resp.data
    assert va.record(sid) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


# -- body size ------------------------------------------------------------------------------------
def test_a_body_over_the_cap_is_refused_with_413_before_the_signature_is_checked(cfg, voice_app, caplog):
    va = voice_app(cfg)
    params = call_params("CA" + "9" * 32, Padding="x" * 70_000)
    with caplog.at_level(logging.INFO):
        resp = signed(va, "POST", "/voice", params)
    assert resp.status_code == 413
    assert b"<Response" not in resp.data
    assert va.record("CA" + "9" * 32) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # a normal-sized webhook still works
    assert signed(va, "POST", "/voice", call_params("CA" + "a" * 32)).status_code == 200


# -- Unicode digits -------------------------------------------------------------------------------
UNICODE_DIGITS = ["²", "③", "٣", "12²", "𝟗"]


@pytest.mark.parametrize("junk", UNICODE_DIGITS)
def test_unicode_digits_in_query_arguments_are_malformed_not_errors(cfg, voice_app, junk):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    junk = quote(junk)   # as Twilio sends it: percent-encoded UTF-8
    resp = signed(va, "POST", f"/voice/menu?p=&t={junk}&n={junk}", call._call_params(Digits="7"))
    assert resp.status_code == 200 and b"<Gather" in resp.data
    call.press("1")   # a service: the chain's first step
    resp = signed(va, "POST", f"/voice/dial?s=system&i=0&at={junk}",
                  call._call_params(DialCallStatus="no-answer"))
    root = ET.fromstring(resp.data)
    assert [n.text for n in root.iter("Number")] == ["+4534412363", "+4534412361"]   # step 2, no apology
    assert va.record(call.sid)["outcome"] != "error"


@pytest.mark.parametrize("junk", UNICODE_DIGITS)
def test_unicode_durations_keep_the_end_event_and_the_fallback_done(cfg, voice_app, junk):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    resp = signed(va, "POST", "/voice/fallback/done",
                  call._call_params(DialCallStatus="completed", DialCallDuration=junk))
    assert [el.tag for el in ET.fromstring(resp.data)] == ["Hangup"]          # not a re-dial
    resp = signed(va, "POST", "/voice/status", call._call_params(CallStatus="completed", CallDuration=junk))
    assert resp.status_code == 200
    record = va.record(call.sid)
    assert record["ended_at"] is not None and record["outcome"] != "error"
    assert record["attempts"][0]["duration"] is None


def test_unicode_digits_at_the_recording_and_staff_system_prompts(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    resp = signed(va, "POST", "/voice/recorded",
                  call._call_params(RecordingUrl="https://api.twilio.com/rec/RE1", RecordingDuration="③"))
    assert resp.status_code == 200 and va.record(call.sid)["outcome"] == "voicemail"


def test_ascii_digits_helpers():
    from ivr.digits import ascii_int, is_ascii_digits

    assert is_ascii_digits("0123") and not is_ascii_digits("") and not is_ascii_digits("²")
    assert not is_ascii_digits("١٢") and not is_ascii_digits("1 2")
    assert ascii_int("42") == 42 and ascii_int("③") is None and ascii_int("", 7) == 7
    assert ascii_int("99", 0, high=50) == 0


def test_codes_in_the_config_must_be_ascii_digits():
    from ivr.config.errors import ConfigErrors

    with pytest.raises(ConfigErrors, match="digits only"):
        config_from_text(TEST_YAML.replace('codes: ["153", "42"]', 'codes: ["153", "4²"]'))


# -- a CallSid reused on another line -------------------------------------------------------------
def two_lines() -> Config:
    first = load_text(TEST_YAML, "first.yaml")
    second = load_text(TEST_YAML.replace('"+45 70 11 22 99"', '"+45 70 11 22 98"').replace(
        "name: Testlinjen", "name: Andenlinjen").replace("default: techs}", "default: alarm}"), "second.yaml")
    return Config(hotlines={**{n: first for n in first.numbers}, **{n: second for n in second.numbers}},
                  version="two", source="test")


def test_a_callsid_reused_on_another_line_gets_that_lines_own_chain(voice_app):
    va = voice_app(two_lines(), at=MONDAY_22)
    first = va.call(line="+4570112299")
    first.start()
    assert [n for n, _ in first.press("1").numbers] == ["+4534412362"]      # techs: tech1
    other = va.call(line="+4570112298")
    other.sid = first.sid
    other.start()
    turn = other.press("1")
    assert [n for n, _ in turn.numbers] == ["+4534412364"]                 # its own alarm chain
    resp = signed(va, "POST", "/voice/dial?s=system&i=0&at=" + str(int(MONDAY_22.timestamp())),
                  call_params(first.sid, "+4570112298", DialCallStatus="no-answer"))
    root = ET.fromstring(resp.data)
    assert list(root.iter("Number")) == []                                  # the alarm chain's end
    assert "112" in ET.tostring(root, encoding="unicode")


def test_an_acceptance_on_one_line_does_not_count_on_another(voice_app):
    va = voice_app(two_lines(), at=MONDAY_22)
    first = va.call(line="+4570112299")
    first.start()
    first.press("1")
    first.ring("accept")
    techs_b = load_text(TEST_YAML.replace('"+45 70 11 22 99"', '"+45 70 11 22 98"'), "b.yaml")
    cfg = Config(hotlines={**va.config.hotlines, "+4570112298": techs_b}, version="three", source="test")
    va.state.config = cfg
    other = va.call(line="+4570112298")
    other.sid = first.sid
    other.start()
    other.press("1")
    turn = other.ring("no-answer")          # step 0 not answered on this line: step 1 follows
    assert [n for n, _ in turn.numbers] == ["+4534412363", "+4534412361"]
