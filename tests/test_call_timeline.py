"""`hotline calls --show SID`: one call's record as a timeline, from calls driven through the app."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ivr.calls.events import event
from ivr.calls.spool import Spool
from ivr.calls.timeline import key_text, step_label, timeline
from ivr.cli import main
from ivr.config import load_config
from ivr.outages import service
from tests.sms_helpers import client
from tests.support.voice import TEST_YAML, config_from_text

MONDAY_22 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)   # 22:00 in Copenhagen
MONDAY_10 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)    # office hours
BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"


@pytest.fixture
def cfg():
    return config_from_text(TEST_YAML)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "test.yaml"
    path.write_text(TEST_YAML, encoding="utf-8")
    return path


@pytest.fixture
def cli_env(redis_url, config_file, tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_CONFIG", str(config_file))
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "cli-spool"))


def later(va, seconds: int) -> None:
    va.clock.at += dt.timedelta(seconds=seconds)


def silent_then_escalated(va):
    """No key twice at the top menu (its default: the system service), nobody answers the first
    two steps, the exhausted dial to the duty phone is answered."""
    call = va.call()
    call.start()
    later(va, 8)
    call.press("")                     # no key: asked again
    later(va, 8)
    call.press("")                     # no key again: retries used up, the menu's default
    for outcome in ("decline", "no-answer", "accept"):
        later(va, 30)
        call.ring(outcome)
    later(va, 60)
    call.hang_up()
    return call


def test_a_call_reads_as_a_timeline_in_the_hotlines_local_time(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = silent_then_escalated(va)
    lines = timeline(va.record(call.sid), cfg.find("+4570112299"))
    text = "\n".join(lines)
    assert f"call      {call.sid}" in lines
    assert "line      +4570112299 Testlinjen" in lines
    assert "from      +4534412350" in lines
    assert "started   2026-11-23 21:00:00 UTC  (2026-11-23 22:00:00 CET, Europe/Copenhagen)" in lines
    top = 'top menu "Tryk 1 for fagsystemet. Tryk 2 for flere valg. Tryk 9 for…"'
    assert lines[lines.index("menu") + 1:lines.index("menu") + 4] == [
        f"  22:00:08  {top}: (no key)  no key in time",
        f"  22:00:16  {top}: (no key)  no key in time",
        f"  22:00:16  {top}: (no key)  retries used up: the default -> service system (Fagsystemet)"]
    assert "decision  system (Fagsystemet) -> on_call: Teknikerne" in lines
    assert "  reason  Mon 2026-11-23 22:00" in text and f"  config  {cfg.version}" in lines
    # steps count from 1 as `hotline route` prints them; the exhausted dial is "then"
    assert "  22:00:46  step 1   Tekniker 1 +4534412362: completed, screened, 42 s" in lines
    assert "  22:01:16  step 2   Tekniker 2 +4534412363, Vagten +4534412361: no-answer" in lines
    assert ("  22:01:46  then     Vagten +4534412361: completed, 42 s, taken by +4534412361") in lines
    assert "accepted  +4534412361" in lines
    assert "outcome   answered (end number)" in lines
    assert "step 0" not in text and "~" not in text


def test_a_menu_choice_and_a_voicemail(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    call.press("7")                    # not an option
    call.press("2")
    call.press("2")
    call.press("153#")
    call.ring("no-answer")
    call.leave_message("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1", duration=12)
    call.hang_up()
    lines = timeline(va.record(call.sid), cfg.find("+4570112299"))
    text = "\n".join(lines)
    assert 'top menu "Tryk 1 for fagsystemet. Tryk 2 for flere valg. Tryk 9 for…": 7  wrong key' in text
    assert ': 2  -> menu: "Tryk 1 for gode råd. Tryk 2 for kode. Tryk 3 for personale."' in text
    assert ('menu 2 "Tryk 1 for gode råd. Tryk 2 for kode. Tryk 3 for personale.": 2  '
            '-> code entry: "Tast koden og firkant."') in text
    assert 'menu 2/2 "Tast koden og firkant.": 153#  -> service system (Fagsystemet)' in text
    assert "decision  system (Fagsystemet) -> service_desk: Servicedesk" in lines
    assert "  10:00:00  step 1   Servicedesk +4534412360: no-answer" in lines
    assert "recording https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1 (12 s)" in lines
    assert "outcome   voicemail (message recorded)" in lines and "accepted  -" in lines


def test_a_call_about_an_open_outage_names_it(voice_app, redis_url, monkeypatch, fake_twilio):
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    cfg = load_config(BRONDBY)
    hotline = cfg.lines()[0]
    oid = service.declare(client(redis_url), hotline, "nexus", "", "test", MONDAY_10).outage.id
    va = voice_app(cfg, at=MONDAY_10 + dt.timedelta(minutes=5))
    call = va.call()
    call.start()
    call.press("1")
    lines = timeline(va.record(call.sid), hotline)
    assert f"outage    {oid} (nexus)  (hotline outage show {oid})" in lines
    assert any(line.startswith("announced \"Nexus har været nede siden klokken 10:00") for line in lines)
    assert any(": 1  -> Nexus er nede: service nexus" in line for line in lines), lines


def test_without_the_config_times_follow_the_decisions_offset(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = silent_then_escalated(va)
    lines = timeline(va.record(call.sid))
    assert "started   2026-11-23 21:00:00 UTC  (2026-11-23 22:00:00 UTC+01:00)" in lines
    assert "  22:00:46  step 1   Tekniker 1 +4534412362: completed, screened, 42 s" in lines
    assert any(line.endswith(": (no key)  retries used up: the default") for line in lines)


def test_step_and_key_wording():
    assert [step_label(i, 2) for i in (0, 1, 2)] == ["step 1", "step 2", "then"]
    assert step_label(0) == "step 1" and step_label("fallback", 2) == "fallback"
    assert key_text("~") == "(no key)" and key_text(None, "") == "(no key)" and key_text("153#") == "153#"


def test_cli_show_prints_the_timeline_and_json(cfg, voice_app, cli_env, capsys):
    va = voice_app(cfg, at=MONDAY_22)
    call = silent_then_escalated(va)
    assert main(["calls", "--show", call.sid]) == 0
    out = capsys.readouterr().out
    assert "(2026-11-23 22:00:00 CET, Europe/Copenhagen)" in out
    assert "  step 1   Tekniker 1 +4534412362" in out and "outcome   answered" in out
    assert main(["calls", "--show", call.sid, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record == va.record(call.sid)
    assert [e["key"] for e in record["entries"]] == [None, None, "~"] and record["keys"] == ["~"]


def test_cli_show_unknown_or_malformed_sid(cli_env, capsys):
    assert main(["calls", "--show", "CA" + "0" * 32]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"hotline: no call CA{'0' * 32} in the call log or the spool"
    assert main(["calls", "--show", "../etc/passwd"]) == 2
    assert "is not a CallSid" in capsys.readouterr().err


def test_cli_show_with_redis_down_reads_the_spool_and_fails(redis_server, cli_env, tmp_path, capsys):
    Spool(tmp_path / "cli-spool").append(event("CA7", "+4570112299", "start", "start", MONDAY_22,
                                               **{"from": "+4534412350"}))
    redis_server.stop()
    try:
        assert main(["calls", "--show", "CA7"]) == 1
        captured = capsys.readouterr()
        assert "cannot reach Redis at" in captured.err and "from      +4534412350" in captured.out
        assert main(["calls", "--show", "CA8"]) == 1
        assert "no call CA8 in the spool" in capsys.readouterr().err
    finally:
        redis_server.start()
