"""The call's route after the menu: reach a service, walk its escalation chain, end it.

Every function returns TwiML (a VoiceResponse, or a step's text from ivr.voice.step_cache) and
records what happened in the call log.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Iterable

from twilio.twiml.voice_response import VoiceResponse

from ivr.calls.chain import Chain, chain_from_dict
from ivr.calls.events import Outcome
from ivr.digits import is_ascii_digits
from ivr.hotline import Hotline
from ivr.voice import render
from ivr.voice.step_cache import step_text
from ivr.voice.context import call_sid, caller_id, record, state, url
from ivr.voice.minute_decisions import chain_at, decided
from ivr.voice.texts import text

log = logging.getLogger(__name__)

CONNECTED = ("completed", "answered")


def epoch(moment: dt.datetime) -> int:
    """Return a moment as whole epoch seconds (how it travels in URLs)."""
    return int(moment.timestamp())


def moment_of(raw: str, fallback: dt.datetime) -> dt.datetime:
    """Return epoch-seconds text as an aware UTC datetime, `fallback` when malformed."""
    if is_ascii_digits(raw) and len(raw) <= 11:
        return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)
    return fallback


def hook_extras(hotline: Hotline, service_id: str, sid: str, at: dt.datetime) -> dict:
    """Return the merged dicts of the service hooks; a failing hook is logged and skipped."""
    st = state()
    extra: dict = {}
    for hook in list(st.service_hooks):
        try:
            result = hook(hotline, service_id, sid, st.redis, at)
            if isinstance(result, dict):
                extra.update(result)
        except Exception:  # noqa: BLE001 - a hook never breaks a call
            log.exception("service hook %r failed for call %s", hook, sid)
    return extra


def reach_service(hotline: Hotline, service_id: str, lead: Iterable[str] = ()) -> VoiceResponse | str:
    """Decide who takes the call now, log that decision, start the chain.

    Every post decides for its own moment. Twilio posts a key again only when it did not get the
    answer to an earlier post, so the newest decision is the one the call follows: the log keeps
    one per post second (an event id with the moment), and the record, the console and a dial
    result after a config reload read the newest (ivr.calls.events.frozen_decision). Nothing here
    waits for Redis: the decision is written behind with the webhook's other events.
    """
    st = state()
    sid = call_sid()
    at = st.now()
    chain, logged = decided(hotline, service_id, at)   # once per minute (ivr.voice.minute_decisions)
    record(hotline, "service", f"service:{hotline.line}:{epoch(at)}", service=service_id,
           decision=logged, extra=hook_extras(hotline, service_id, sid, at))
    words = [text("emergency_112", hotline.language)] if chain.emergency else []
    words += list(lead) + list(chain.announcements)
    return continue_chain(hotline, chain, at, 0, words)


def load_chain(hotline: Hotline | None, sid: str, service_id: str, at: dt.datetime,
               version: str = "") -> Chain | None:
    """Return the chain of call `sid` on this hotline, decided at `at`; None when it cannot be
    known (unknown hotline or service).

    `version`: the config version the decision was made under (the dial URL's, ivr.calls.chain).
    When the hotline's plan is still of that version, the chain is decided again for `at`, without
    reading Redis: the same config gives the same answer for the same moment (`at` travels in
    whole seconds, schedules change on whole minutes). Otherwise the call log's newest decision
    is read; without one, decided again.
    """
    if version and hotline is not None and version == hotline.plan.version and service_id in hotline.plan.services:
        return chain_at(hotline, service_id, at)
    data = state().store.decision(sid, hotline.line) if sid and hotline else None
    if data:
        try:
            return chain_from_dict(data)
        except (KeyError, TypeError, ValueError):
            log.exception("frozen decision of call %s is malformed; deciding again", sid)
    if hotline is None or service_id not in hotline.plan.services:
        return None
    log.info("no frozen decision for call %s: deciding %s again for %s", sid or "?", service_id, at.isoformat())
    return chain_at(hotline, service_id, at)


def _dial_url(chain: Chain, at: dt.datetime, index: int) -> str:
    return url("/voice/dial", s=chain.service, i=index, at=epoch(at), v=chain.config_version or None)


def continue_chain(hotline: Hotline, chain: Chain, at: dt.datetime, index: int,
                   lead: Iterable[str] = ()) -> VoiceResponse | str:
    """Return TwiML for step `index` of the chain (its text, ivr.voice.step_cache), or for its end
    when the steps are used up."""
    words = list(lead)
    sid = call_sid()
    if chain.leg(index) is not None:
        words.append(text("calling", hotline.language, name=chain.target_name) if index == 0
                     else text("next_step", hotline.language))

        screen = url("/voice/screen", i=index, parent=sid, s=chain.service, at=epoch(at), line=hotline.line)
        return step_text(hotline, chain, index, caller_id(hotline), _dial_url(chain, at, index), screen, words)
    if chain.end_kind == "dial" and chain.end_number:
        if chain.legs:
            words.append(text("next_step", hotline.language))
        return render.end_dial(hotline, chain, caller_id(hotline), _dial_url(chain, at, len(chain.legs)), words)
    if chain.end_kind == "voicemail" and not chain.emergency:
        # No message yet: Twilio skips the <Record> action for an empty recording, so only
        # /voice/recorded with a RecordingUrl turns this into a voicemail.
        record(hotline, "outcome", "voicemail", outcome=Outcome.NO_ANSWER.value,
               detail="voicemail greeting played, no message left")
        return render.voicemail(hotline, chain, url("/voice/recorded", s=chain.service),
                                url("/voice/recording"), words)
    record(hotline, "outcome", "message", outcome=Outcome.MESSAGE.value, detail=chain.end_message or "")
    return render.message(hotline, chain, words)


def dial_result(hotline: Hotline, chain: Chain, at: dt.datetime, index: int, status: str,
                duration: int | None) -> VoiceResponse | str:
    """Log how step `index` went and return what comes next (hang up when someone took the call)."""
    sid = call_sid()
    end = index >= len(chain.legs)
    leg = chain.leg(index)
    numbers = [chain.end_number or ""] if end else list(leg.numbers)
    screened = bool(leg and leg.screen and not chain.emergency)
    if screened:
        # Only a callee who answered can have pressed 1: other results need no look at the log.
        accepted = state().store.accepted(sid, hotline.line).get(index) if status in CONNECTED else None
    else:
        accepted = ", ".join(numbers) if status in CONNECTED else None
    record(hotline, "attempt", str(index), step=index, numbers=numbers,
           names=list(leg.names) if leg else [], status=status or "unknown", screened=screened,
           accepted_by=accepted, duration=duration)
    # For people: steps count from 1 as `hotline route` prints them; the exhausted dial is no step.
    said = "end number" if end else f"step {index + 1}"
    if accepted:
        record(hotline, "outcome", f"dial:{index}", outcome=Outcome.ANSWERED.value, detail=said)
        resp = VoiceResponse()
        resp.hangup()
        return resp
    if status == "canceled":
        record(hotline, "outcome", f"dial:{index}", outcome=Outcome.ABANDONED.value, detail=said)
        resp = VoiceResponse()
        resp.hangup()
        return resp
    if end:
        record(hotline, "outcome", f"dial:{index}", outcome=Outcome.NO_ANSWER.value, detail="end number")
        resp = VoiceResponse()
        render.speak(resp, text("nobody", hotline.language), hotline)
        resp.hangup()
        return resp
    return continue_chain(hotline, chain, at, index + 1)
