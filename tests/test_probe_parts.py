"""The parts of the automatic test calls: the probe: section, the expected route, SendDigits and how
the Twilio stand-in splits them, the app's answer to a probe caller, and the daily schedule."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.config import ConfigErrors, load_config
from ivr.devtools.call_driver import _gathered, digit_entries
from ivr.probe.expect import differences, expected, logged
from ivr.probe.jobs import alert_text, job_id, next_run
from ivr.probe.model import ProbePolicy
from ivr.probe.place import ProbeError, ProbeResult, send_digits

ROOT = Path(__file__).resolve().parents[1]
CPH = ZoneInfo("Europe/Copenhagen")
PROBE_NUMBER = "+4534412399"


def brondby(tmp_path: Path, probe: str):
    text = (ROOT / "examples" / "brondby.yaml").read_text(encoding="utf-8") + probe
    path = tmp_path / "brondby.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_probe_section_is_loaded_with_numbers_as_e164_and_contacts_resolved(tmp_path):
    (hotline,) = brondby(tmp_path, '\nprobe:\n  callers: ["34 41 23 99"]\n  keys: "2"\n'
                                   '  admins: [it_contact_1, "+45 34 41 23 98"]\n  daily_at: "04:15"\n').lines()
    assert hotline.probe == ProbePolicy(callers=(PROBE_NUMBER,), keys=("2",),
                                        admins=("+4534412345", "+4534412398"), daily_at=dt.time(4, 15))


def test_without_keys_the_probe_presses_the_first_service_key_and_runs_at_three(tmp_path):
    (hotline,) = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n').lines()
    assert hotline.probe.keys == ("1",) and hotline.probe.daily_at == dt.time(3, 0)
    assert hotline.probe.admins == ()


@pytest.mark.parametrize("section, field, words", [
    ('  callers: ["+4534412399"]\n  keys: "5"\n', "probe.keys", "key '5' is not an option"),
    ('  callers: ["+4534412399"]\n  keys: "9"\n', "probe.keys", "staff entry"),
    ('  callers: ["+4534412399"]\n  daily_at: "25:00"\n', "probe.daily_at", "not a valid time"),
    ('  callers: ["43 28"]\n', "probe.callers[0]", "not a valid phone number"),
    ('  callers: ["+4534412399"]\n  admins: [nobody]\n', "probe.admins[0]", "unknown contact 'nobody'"),
    ('  callers: ["+4534412345"]\n', "probe.callers[0]", "is the number of contact it_contact_1"),
    ('  callers: ["+4534412350"]\n', "probe.callers[0]", "is the number of site"),
])
def test_a_wrong_probe_section_is_refused_naming_the_field(tmp_path, section, field, words):
    with pytest.raises(ConfigErrors) as caught:
        brondby(tmp_path, "\nprobe:\n" + section)
    (error,) = caught.value.errors
    assert f": {field}: " in str(error) and words in str(error)


def test_differences_name_each_field_that_routes_the_call_elsewhere(tmp_path):
    (hotline,) = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n').lines()
    at = dt.datetime(2026, 12, 24, 23, 30, tzinfo=CPH)
    want = expected(hotline, ("2",), at)
    assert want["route"] == "on_call" and want["dial"] == [["+4534412345"], ["+4534412346"]]
    record = {"keys": ["2"], "service": "network", "decision": {**want, "dial": [["+4534412345"]]}}
    assert differences(want, logged(record)) == [
        "dial: expected +4534412345 then +4534412346, the call had +4534412345"]
    assert differences(want, logged({"keys": ["2"], "service": "network", "decision": dict(want)})) == []
    assert differences(want, logged({"keys": [], "service": None, "decision": None}))[:2] == [
        "keys: expected 2, the call had (none)", "service: expected network, the call had (none)"]


def test_send_digits_put_each_entry_after_a_pause_and_the_stand_in_splits_them_back():
    assert send_digits(("1", "153#", "1")) == "W1WW153#WW1"
    assert digit_entries("W1WW153#WW1") == ["1", "153#", "1"]
    assert digit_entries("ww2w3") == ["2", "3"] and digit_entries(None) == []
    with pytest.raises(ProbeError):
        send_digits(("12345678",) * 4)


def test_the_stand_in_posts_a_code_entry_without_its_finish_key_and_at_most_num_digits():
    import xml.etree.ElementTree as ET

    code = ET.fromstring('<Gather numDigits="5" finishOnKey="#"/>')
    menu = ET.fromstring('<Gather numDigits="1" finishOnKey=""/>')
    assert _gathered(code, "153#") == {"Digits": "153", "FinishedOnKey": "#"}
    assert _gathered(menu, "2") == {"Digits": "2", "FinishedOnKey": ""}
    assert _gathered(menu, "23") == {"Digits": "2", "FinishedOnKey": ""}


def test_a_probe_caller_hears_the_menu_and_the_route_and_nobody_is_rung(tmp_path, voice_app):
    config = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n')
    at = dt.datetime(2026, 12, 24, 23, 30, tzinfo=CPH)
    va = voice_app(config, at)
    call = va.call(caller=PROBE_NUMBER)
    first = call.start()
    assert first.kind == "gather" and "/voice/probe/menu" in first.action
    assert "Tryk 2" in " ".join(first.says)
    last = call.press("2")
    assert last.kind == "hangup" and "<Dial" not in last.body
    assert "IT-døgnvagt (jul til nytår)" in " ".join(last.says)
    record = va.record(call.sid)
    assert record["outcome"] == "probe" and record["extra"]["probe"] is True
    assert record["keys"] == ["2"] and record["decision"]["route"] == "on_call" and record["attempts"] == []


def test_a_probe_caller_pressing_a_wrong_key_ends_the_probe_without_dialling(tmp_path, voice_app):
    config = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n')
    va = voice_app(config)
    call = va.call(caller=PROBE_NUMBER)
    call.start()
    last = call.press("5")
    assert last.kind == "hangup" and "<Dial" not in last.body
    record = va.record(call.sid)
    assert record["outcome"] == "probe" and record["service"] is None
    assert record["detail"].startswith("no service reached: invalid at the top menu")


def test_the_probe_leg_of_the_call_itself_only_listens(tmp_path, voice_app):
    config = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n')
    va = voice_app(config)
    call = va.call(caller=PROBE_NUMBER)
    turn = call._main("/voice", call._call_params(Direction="outbound-api"))
    assert "<Pause" in turn.body and "<Gather" not in turn.body
    assert va.record(call.sid) is None


def test_other_callers_still_get_the_hotline(tmp_path, voice_app):
    config = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n')
    va = voice_app(config, dt.datetime(2026, 12, 24, 23, 30, tzinfo=CPH))
    call = va.call(caller="+4534412350")
    assert "/voice/menu" in call.start().action
    assert call.press("2").kind == "dial"


@pytest.mark.parametrize("now, expected_at", [
    (dt.datetime(2026, 11, 30, 2, 59, tzinfo=CPH), dt.datetime(2026, 11, 30, 3, 0, tzinfo=CPH)),
    (dt.datetime(2026, 11, 30, 3, 0, tzinfo=CPH), dt.datetime(2026, 12, 1, 3, 0, tzinfo=CPH)),
    (dt.datetime(2026, 3, 28, 12, 0, tzinfo=CPH), dt.datetime(2026, 3, 29, 3, 0, tzinfo=CPH)),  # clocks go forward
])
def test_the_daily_probe_runs_at_the_next_local_time(now, expected_at):
    policy = ProbePolicy(callers=(PROBE_NUMBER,), keys=("1",))
    at = next_run(policy, CPH, now)
    assert at == expected_at and at.utcoffset() == expected_at.utcoffset()
    assert job_id("+4570112230", at) == f"probe-4570112230-{expected_at:%Y%m%d}"
    assert next_run(ProbePolicy((PROBE_NUMBER,), ("1",), daily_at=None), CPH, now) is None


def test_the_admins_sms_names_the_line_and_what_differed(tmp_path):
    (hotline,) = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n').lines()
    result = ProbeResult(hotline.line, False, "2026-11-30T02:00:00+00:00", ["1"],
                         differences=["route: expected on_call, the call had emergency"])
    assert alert_text(hotline, result) == ("TEST CALL FAILED Brøndby Ældre og Omsorg – nedbrud (+4570112230): "
                                           "route: expected on_call, the call had emergency")
    long = ProbeResult(hotline.line, False, "x", ["1"], error="x" * 500)
    assert len(alert_text(hotline, long)) == 300


def test_fake_twilio_command_prints_what_a_created_call_plays():
    from ivr.cli.fake_twilio import describe

    record = {"sid": "CA1", "to": "+4570112230", "from": PROBE_NUMBER, "url": "http://127.0.0.1:5000/voice",
              "params": {"SendDigits": "W2"}}
    assert describe("CreateCall", record) == ("call CA1 to +4570112230 from +4534412399: plays "
                                              "http://127.0.0.1:5000/voice pressing W2")


def test_twilios_fallback_url_for_a_probe_call_dials_nobody(tmp_path, voice_app):
    config = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n')
    va = voice_app(config)
    call = va.call(caller=PROBE_NUMBER)
    turn = call._main("/voice/fallback", call._call_params(ErrorCode="11200"))
    assert turn.kind == "hangup" and "<Dial" not in turn.body
    record = va.record(call.sid)
    assert record["outcome"] == "probe" and "Fallback URL (error 11200)" in record["detail"]
    other = va.call(caller="+4534412350")
    assert "<Dial" in other._main("/voice/fallback", other._call_params(ErrorCode="11200")).body


def test_a_failure_in_the_app_during_a_probe_dials_nobody(tmp_path, voice_app, monkeypatch):
    import ivr.probe.voice as probe_voice

    def broken(*args):
        raise RuntimeError("routing broke")

    monkeypatch.setattr(probe_voice, "decide", broken)
    config = brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n')
    va = voice_app(config)
    call = va.call(caller=PROBE_NUMBER)
    call.start()
    last = call.press("2")
    assert last.kind == "hangup" and "<Dial" not in last.body
    record = va.record(call.sid)
    assert record["outcome"] == "probe"
    assert record["detail"] == "no service reached: the app failed: RuntimeError: routing broke"


def test_check_lists_the_probe(tmp_path, capsys):
    from ivr.cli import main

    brondby(tmp_path, '\nprobe:\n  callers: ["+4534412399"]\n  keys: "2"\n  admins: ["+4534412398"]\n')
    assert main(["check", "--config", str(tmp_path / "brondby.yaml")]) == 0
    assert ("  probe: from +4534412399 pressing 2, daily at 03:00; texts +4534412398 when it fails\n"
            in capsys.readouterr().out)
