"""Views for the escalation chain: Dial results, the callee's screening whisper, voicemail."""
from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.calls.events import Outcome
from ivr.calls.spool import valid_sid
from ivr.menus.twiml import speak
from ivr.voice import flow, render
from ivr.voice.context import (arg, call_sid, form, hotline_for_request, int_arg, int_form, nothing, now, record,
                               safe_answer, twiml, url)
from ivr.voice.texts import text

log = logging.getLogger(__name__)
bp = Blueprint("voice_chain", __name__)


@bp.post("/voice/dial")
def dial():
    """A <Dial> ended: log the attempt; someone took it -> hang up, else the next step or the end."""
    hotline = hotline_for_request()
    at = flow.moment_of(arg("at", 12), now())
    chain = flow.load_chain(hotline, call_sid(), arg("s", 64), at, arg("v", 16)) if hotline else None
    if hotline is None or chain is None:
        return twiml(safe_answer(hotline, f"dial action without a chain (service {arg('s', 64)!r})"))
    index = int_arg("i", -1, 100)
    if index < 0 or index > len(chain.legs):
        return twiml(safe_answer(hotline, f"dial action for step {arg('i', 8)!r}"))
    return twiml(flow.dial_result(hotline, chain, at, index, form("DialCallStatus", 20),
                                  int_form("DialCallDuration")))


def _screen_context():
    hotline = hotline_for_request()
    parent = arg("parent", 64)
    index = int_arg("i", -1, 100)
    if hotline is None or not valid_sid(parent) or index < 0:
        return None
    return hotline, parent, index


@bp.post("/voice/screen")
def screen():
    """The callee answered a screened step: tell them what the call is about; 1 accepts."""
    found = _screen_context()
    if found is None:
        resp = VoiceResponse()
        resp.hangup()
        return twiml(resp)
    hotline, parent, index = found
    service = hotline.plan.services.get(arg("s", 64))
    action = url("/voice/screen/answer", i=index, parent=parent, s=arg("s", 64), line=hotline.line)
    return twiml(render.whisper(hotline, service.name if service else hotline.name, action))


@bp.post("/voice/screen/answer")
def screen_answer():
    """The callee's key: 1 bridges the call (and is logged as the acceptance), anything else hangs up."""
    found = _screen_context()
    resp = VoiceResponse()
    if found is None:
        resp.hangup()
        return twiml(resp)
    hotline, parent, index = found
    callee = form("To", 40) or form("Called", 40)
    if (form("Digits", 8)) == "1":
        record(hotline, "accept", f"{hotline.line}:{index}", sid=parent, step=index, number=callee, leg=call_sid())
        speak(resp, text("connecting", hotline.language), hotline)
        return twiml(resp)
    record(hotline, "decline", f"{index}:{call_sid() or callee}", sid=parent, step=index, number=callee,
           digits=form("Digits", 8))
    resp.hangup()
    return twiml(resp)


@bp.post("/voice/recorded")
def recorded():
    """<Record> finished: keep the recording URL in the call log, thank the caller."""
    hotline = hotline_for_request()
    if hotline is None:
        return twiml(safe_answer(None, "recording for an unknown line"))
    recording = form("RecordingUrl", 500)
    resp = VoiceResponse()
    if recording:
        record(hotline, "recording", "action", url=recording, duration=int_form("RecordingDuration"))
        record(hotline, "outcome", "recorded", outcome=Outcome.VOICEMAIL.value, detail="message recorded")
        speak(resp, text("recorded", hotline.language), hotline)
    else:
        record(hotline, "outcome", "recorded", outcome=Outcome.NO_ANSWER.value, detail="no message left")
        speak(resp, text("no_recording", hotline.language), hotline)
    resp.hangup()
    return twiml(resp)


@bp.post("/voice/recording")
def recording_status():
    """Twilio's recording status callback: the final recording URL once it is available."""
    recording = form("RecordingUrl", 500)
    if recording and form("RecordingStatus", 20) in ("completed", ""):
        record(hotline_for_request(), "recording", f"status:{form('RecordingSid', 64) or recording}",
               url=recording, duration=int_form("RecordingDuration"))
    return nothing()
