"""TwiML for the escalation chain: a step's <Dial>, and the chain's end (voicemail, dial, message).

Functions take the URLs they put in the TwiML as arguments, so they can be tested without Flask.
"""
from __future__ import annotations

from typing import Callable, Iterable

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.calls.chain import Chain
from ivr.hotline import Hotline
from ivr.menus.twiml import speak
from ivr.voice.texts import text

EXHAUSTED_DIAL_TIMEOUT = 30
VOICEMAIL_MAX_SECONDS = 180
SCREEN_TIMEOUT = 8


def step(hotline: Hotline, chain: Chain, index: int, caller_id: str, action: str,
         screen_url: Callable[[int], str], lead: Iterable[str] = ()) -> VoiceResponse:
    """Return TwiML that says `lead`, then dials step `index` with its ring timeout.

    Screened steps give each <Number> a whisper URL (never on emergency routes). The <Dial>
    action reports the outcome back to us (DialCallStatus). Raises IndexError past the last step.
    """
    leg = chain.leg(index)
    if leg is None:
        raise IndexError(f"no step {index} in a chain of {len(chain.legs)}")
    resp = VoiceResponse()
    for words in lead:
        speak(resp, words, hotline)
    dial = Dial(action=action, method="POST", timeout=leg.timeout, caller_id=caller_id, answer_on_bridge=True)
    for number in leg.numbers:
        if leg.screen and not chain.emergency:
            dial.number(number, url=screen_url(index), method="POST")
        else:
            dial.number(number)
    resp.append(dial)
    return resp


def whisper(hotline: Hotline, service_name: str, action: str) -> VoiceResponse:
    """Return the screening TwiML for the callee: what the call is about, press 1 to accept.

    Anything else, or no key, hangs up the callee's leg (the caller's escalation goes on).
    """
    resp = VoiceResponse()
    gather = Gather(input="dtmf", action=action, method="POST", num_digits=1, timeout=SCREEN_TIMEOUT,
                    finish_on_key="", action_on_empty_result=True, language=hotline.language)
    speak(gather, text("whisper", hotline.language, hotline=hotline.name, service=service_name),
          hotline, loop=2)
    resp.append(gather)
    resp.hangup()
    return resp


def voicemail(hotline: Hotline, chain: Chain, action: str, status_callback: str,
              lead: Iterable[str] = ()) -> VoiceResponse:
    """Return TwiML that says `lead`, plays the chain's voicemail greeting and records a message."""
    resp = VoiceResponse()
    for words in lead:
        speak(resp, words, hotline)
    speak(resp, chain.end_message or text("voicemail", hotline.language), hotline)
    resp.record(action=action, method="POST", max_length=VOICEMAIL_MAX_SECONDS, play_beep=True,
                finish_on_key="#", timeout=10, recording_status_callback=status_callback,
                recording_status_callback_method="POST")
    speak(resp, text("no_recording", hotline.language), hotline)
    resp.hangup()
    return resp


def end_dial(hotline: Hotline, chain: Chain, caller_id: str, action: str, lead: Iterable[str] = ()) -> VoiceResponse:
    """Return TwiML that dials the chain's exhausted-end number (never screened)."""
    resp = VoiceResponse()
    for words in lead:
        speak(resp, words, hotline)
    resp.dial(chain.end_number, action=action, method="POST", timeout=EXHAUSTED_DIAL_TIMEOUT,
              caller_id=caller_id, answer_on_bridge=True)
    return resp


def message(hotline: Hotline, chain: Chain, lead: Iterable[str] = ()) -> VoiceResponse:
    """Return TwiML that speaks the chain's end message (or "nobody could be reached") and hangs up."""
    resp = VoiceResponse()
    for words in lead:
        speak(resp, words, hotline)
    speak(resp, chain.end_message or text("nobody", hotline.language), hotline)
    resp.hangup()
    return resp
