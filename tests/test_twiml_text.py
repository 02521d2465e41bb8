"""The hand-written TwiML serialiser writes what the twilio library writes (escaping, attributes, nesting)."""
from __future__ import annotations

import pytest
from flask import Flask
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.voice.twiml_text import to_text

HOSTILE = ['plain', 'a & b < c > d', 'quote " and \' apostrophe', 'line\nbreak\r\ttab', 'Æblehaven – nødkald ☎',
           '', '&amp; already', ']]> cdata end']


@pytest.mark.parametrize("words", HOSTILE)
def test_say_gather_dial_record_redirect_match_the_library(words):
    resp = VoiceResponse()
    resp.say(words, voice="Polly.Naja", language="da-DK", loop=2)
    gather = Gather(input="dtmf", action=f"https://h.example/voice/menu?p={words}&t=0", method="POST",
                    num_digits=1, finish_on_key="", action_on_empty_result=True, language="da-DK", timeout=5)
    gather.say(words)
    resp.append(gather)
    resp.redirect(f"https://h.example/voice/menu?x={words}", method="POST")
    dial = Dial(action="https://h.example/voice/dial?s=a&i=0", method="POST", timeout=30, caller_id="+4570112230",
                answer_on_bridge=True)
    dial.number("+4534412345", url=f"https://h.example/voice/screen?w={words}", method="POST")
    dial.number("+4534412346")
    resp.append(dial)
    resp.dial("+4543282730", caller_id=words or None, action="https://h.example/voice/fallback/done")
    resp.record(action="https://h.example/voice/recorded", max_length=180, play_beep=False, finish_on_key="#",
                recording_status_callback_method="POST")
    resp.hangup()
    assert to_text(resp) == str(resp)


def test_empty_answer_and_text_between_verbs_match_the_library():
    assert to_text(VoiceResponse()) == str(VoiceResponse()) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    resp = VoiceResponse()
    resp.append("lead & text")
    resp.say("x")
    resp.append("tail <1>")
    resp.say("")
    assert to_text(resp) == str(resp)


def test_a_text_that_is_no_string_is_refused_as_by_the_library():
    resp = VoiceResponse()
    resp.say(5)
    with pytest.raises(TypeError):
        to_text(resp)
    with pytest.raises(TypeError):
        str(resp)


def test_every_answer_of_a_call_is_compared(voice_app, twiml_as_the_library_writes_it):
    call = voice_app().call()
    call.start()
    call.press("2")
    call.hang_up()
    # the greeting and the dial; the status callback's empty answer is written once, at import
    assert len(twiml_as_the_library_writes_it) == 2


def test_the_empty_answer_written_once_is_the_librarys():
    from ivr.voice.context import _NOTHING, nothing

    assert _NOTHING == str(VoiceResponse())
    with Flask("t").app_context():
        answer = nothing()
    assert answer.get_data(as_text=True) == str(VoiceResponse()) and answer.mimetype == "text/xml"
