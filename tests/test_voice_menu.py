"""The keypad menu through signed webhooks: wrong keys, silence, bounded retries, *, codes, say, staff."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.support.twiml import assert_gather, assert_url, query
from tests.support.voice import TEST_YAML, config_from_text

MONDAY_10 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)   # 10:00 in Copenhagen
MONDAY_22 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def cfg():
    return config_from_text(TEST_YAML)


@pytest.fixture
def line(cfg):
    return cfg.lines()[0]


def test_start_gathers_the_top_menu(cfg, line, voice_app):
    call = voice_app(cfg, at=MONDAY_10).call()
    turn = call.start()
    assert_gather(turn, line, line.menu)
    assert query(turn.action) == {"p": "", "t": "0", "n": "0"}


def test_wrong_key_and_silence_reprompt_with_their_own_prompts_then_default(cfg, line, voice_app):
    call = voice_app(cfg, at=MONDAY_10).call()
    call.start()
    turn = call.press("7")
    assert turn.says[0] == "Forkert tast."
    assert_gather(turn, line, line.menu)
    assert query(turn.action)["t"] == "1"
    turn = call.silence()
    # retries: 2 -> the second failure takes the default (the service desk during office hours)
    assert turn.kind == "dial" and turn.numbers == [("+4534412360", None)]
    call2 = voice_app(cfg, at=MONDAY_10).call()
    call2.start()
    turn = call2.silence()
    assert turn.says[0] == "Vi hørte ingen tast."
    assert query(turn.action) == {"p": "", "t": "1", "n": "1"}


def test_star_repeats_without_using_a_retry(cfg, line, voice_app):
    call = voice_app(cfg, at=MONDAY_10).call()
    first = call.start()
    turn = call.press("*")
    assert_gather(turn, line, line.menu)
    assert turn.says == first.says
    assert query(turn.action)["t"] == "0"
    turn = call.press("x")   # junk Digits count as a wrong key
    assert turn.says[0] == "Forkert tast."


def test_submenu_code_entry_and_say_lead_to_the_service(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    sub = call.press("2")
    assert sub.verb.findall("Say")[0].text.startswith("Tryk 1 for gode råd")
    code_prompt = call.press("2")
    assert code_prompt.verb.get("finishOnKey") == "#"
    assert code_prompt.verb.findall("Say")[0].text == "Tast koden og firkant."
    wrong = call.press("999#")
    assert wrong.says[0] == "Det valg findes ikke."     # the code entry's own (default) invalid prompt
    assert query(wrong.action)["t"] == "1"
    silent = call.silence()
    assert silent.says[0] == "Vi hørte ikke noget."
    assert query(silent.action)["t"] == "2"
    turn = call.press("153#")
    assert turn.says[0] == "Tak."
    assert turn.kind == "dial" and turn.numbers[0][0] == "+4534412362"   # evening: the technicians
    record = va.record(call.sid)
    assert record["keys"] == ["2", "2", "153#"]
    assert [e["result"] for e in record["entries"]] == ["ok", "ok", "invalid", "timeout", "ok"]


def test_code_entry_retries_are_bounded(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.press("2")
    call.press("2")
    call.press("1#")
    call.silence()
    turn = call.press("2#")
    # no bare # allowed and no default: a person (the hotline's fallback) takes over
    assert turn.kind == "dial" and turn.numbers[0][0] == line.fallback
    assert va.record(call.sid)["outcome"] == "fallback"


def test_say_option_speaks_and_hangs_up(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    call.press("2")
    turn = call.press("1")
    assert [v.tag for v in turn.root] == ["Say", "Say", "Hangup"]
    assert turn.says == ["Gem kørelisterne på USB.", "Farvel."]
    assert va.record(call.sid)["outcome"] == "said"


def test_staff_entry_redirects_keeping_the_call(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    call.press("2")
    turn = call.send(call.turn.action, call._call_params(Digits="3"))
    assert [v.tag for v in turn.root] == ["Redirect"]
    redirect = turn.root[0]
    assert redirect.get("method") == "POST"
    assert_url(redirect.text, "/voice/staff/start")
    assert va.record(call.sid)["outcome"] == "staff"


def test_emergency_says_112_first_and_is_never_screened(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    turn = call.press("9")
    assert turn.says[0] == "Er et liv i fare, så læg på og ring 112."
    assert turn.numbers == [("+4534412364", None)]
    turn = call.ring("no-answer")
    assert [v.tag for v in turn.root] == ["Say", "Hangup"]
    assert "Beredskabet svarer ikke" in turn.says[0]
    assert va.record(call.sid)["outcome"] == "message"


def test_screening_accept_decline_and_voicemail_box(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    turn = call.press("1")
    number, screen_url = turn.numbers[0]
    q = assert_url(screen_url, "/voice/screen")
    assert q["parent"] == call.sid
    # a voicemail box answers the screened step: Twilio says "completed", but nobody pressed 1
    turn = call.ring("voicemail")
    whisper, answer = call.screens[0], call.screens[1]
    assert whisper.kind == "gather" and whisper.verb.get("numDigits") == "1"
    assert "Testlinjen" in whisper.says[0] and "Fagsystemet" in whisper.says[0]
    assert [v.tag for v in answer.root] == ["Hangup"]
    # escalation went on: step 2 rings two numbers together, unscreened
    assert turn.kind == "dial" and [n for n, _ in turn.numbers] == ["+4534412363", "+4534412361"]
    assert all(url is None for _, url in turn.numbers)
    record = va.record(call.sid)
    assert record["attempts"][0]["status"] == "completed" and record["attempts"][0]["accepted_by"] is None


def test_screened_accept_is_logged_with_the_callee(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.press("1")
    turn = call.ring("accept")
    assert [v.tag for v in call.screens[1].root] == ["Say"]   # "Du stilles igennem." then bridged
    assert [v.tag for v in turn.root] == ["Hangup"]
    record = va.record(call.sid)
    assert record["outcome"] == "answered" and record["accepted_by"] == "+4534412362"
    assert record["attempts"][0]["screened"] is True


def test_exhausted_dial_then_nobody(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.press("1")
    call.ring("decline")
    turn = call.ring("busy")
    assert turn.kind == "dial" and turn.numbers == [(line.fallback, None)]
    assert turn.says == ["Der blev ikke svaret. Vi prøver den næste."]
    turn = call.ring("no-answer")
    assert turn.says == ["Det lykkedes ikke at få fat i nogen. Prøv igen om lidt."]
    record = va.record(call.sid)
    assert [a["status"] for a in record["attempts"]] == ["completed", "busy", "no-answer"]
    assert record["outcome"] == "no_answer"


def test_voicemail_recording_is_kept_in_the_call_log(cfg, line, voice_app):
    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    call.press("1")
    turn = call.ring("no-answer")
    assert turn.kind == "record" and turn.says[-1] == "Læg en besked."
    turn = call.leave_message("https://api.twilio.com/rec/RE123", 17)
    assert turn.says == ["Tak. Din besked er gemt. Farvel."]
    record = va.record(call.sid)
    assert record["recording_url"] == "https://api.twilio.com/rec/RE123"
    assert record["recording_duration"] == 17
    assert record["outcome"] == "voicemail"


@pytest.mark.parametrize("setting, expected", [("caller", "+4534412350"), ("hotline", "+4570112299"),
                                               ('"+45 34 41 23 70"', "+4534412370")])
def test_caller_id_setting(setting, expected, voice_app):
    cfg = config_from_text(TEST_YAML.replace("  call_log_days: 3", f"  call_log_days: 3\n  caller_id: {setting}"))
    call = voice_app(cfg, at=MONDAY_10).call()
    call.start()
    turn = call.press("1")
    assert turn.verb.get("callerId") == expected


@pytest.mark.parametrize("anonymous", ["+266696687", "anonymous", "Restricted"])
def test_an_anonymous_caller_is_not_passed_on_as_caller_id(anonymous, voice_app):
    cfg = config_from_text(TEST_YAML.replace("  call_log_days: 3", "  call_log_days: 3\n  caller_id: caller"))
    call = voice_app(cfg, at=MONDAY_10).call(caller=anonymous)
    call.start()
    turn = call.press("1")
    assert turn.verb.get("callerId") == "+4570112299"


def test_a_bad_caller_id_is_a_config_error():
    from ivr.config.errors import ConfigErrors

    with pytest.raises(ConfigErrors) as err:
        config_from_text(TEST_YAML.replace("  call_log_days: 3", "  call_log_days: 3\n  caller_id: nobody"))
    assert any(e.path == "hotline.caller_id" for e in err.value.errors)


def test_voicemail_greeting_without_a_message_is_not_logged_as_voicemail(cfg, voice_app):
    # Twilio does not request the <Record> action for an empty recording: it goes on to the next
    # verb ("no message received", hang up). The incident must not claim a voicemail was left.
    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    call.press("1")
    turn = call.ring("no-answer")
    assert turn.kind == "record"
    assert [v.tag for v in turn.root][-3:] == ["Record", "Say", "Hangup"]
    call.hang_up("completed", 40)
    record = va.record(call.sid)
    assert record["recording_url"] is None
    assert record["outcome"] == "no_answer"
