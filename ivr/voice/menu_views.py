"""Views for the start of a call and the keypad menu; also the call status and fallback webhooks."""
from __future__ import annotations

import logging

from flask import Blueprint
from twilio.twiml.voice_response import VoiceResponse

from ivr.calls.events import Outcome
from ivr.hotline import Hotline
from ivr.menus import nav
from ivr.menus.model import Menu, OptionKind
from ivr.menus.twiml import prompt, say_and_hang_up, speak
from ivr.probe import voice as probe_voice
from ivr.voice import flow
from ivr.voice.context import (arg, caller_id, fallback_done_url, form, hotline_for_request, int_arg, int_form, nothing,
                               posted, record, safe_answer, state, twiml, url, xml)
from ivr.voice.prompt_cache import prompt_text
from ivr.voice.texts import text

log = logging.getLogger(__name__)
bp = Blueprint("voice_menu", __name__)

MAX_PROMPTS = 200  # a call that has heard this many prompts is taken out of the menu


def announcements(hotline: Hotline) -> list[str]:
    """Return what the announcers (e.g. outage status) want said first; failures are logged."""
    st = state()
    out: list[str] = []
    for announcer in list(st.announcers):
        try:
            out.extend(str(s) for s in (announcer(hotline, st.redis, st.now()) or []) if s)
        except Exception:  # noqa: BLE001 - an announcer never breaks a call
            log.exception("announcer %r failed", announcer)
    return out


@bp.post("/voice")
def incoming():
    """A new call: greet with announcements, then the top menu."""
    hotline = hotline_for_request()
    if hotline is None:
        log.warning("call to unknown number %r", form("To", 40))
        record(None, "outcome", "unknown", index=True, outcome=Outcome.UNKNOWN_LINE.value, detail=form("To", 40))
        return twiml(say_and_hang_up(None, [text("unknown_line", None)]))
    probe_answer = probe_voice.answer(hotline)  # an automatic test call: ivr.probe.voice answers it
    if probe_answer is not None:
        return probe_answer
    sayings = announcements(hotline)
    record(hotline, "start", "start", index=True, hotline=hotline.name, to=form("To", 40),
           announced=sayings, stir=form("StirVerstat", 40) or None, **{"from": form("From", 40)})
    return xml(prompt_text(hotline, hotline.menu, url("/voice/menu", p="", t=0, n=0), sayings))


@bp.post("/voice/menu")
def menu():
    """A Gather result at a prompt: act on the key, re-prompt (bounded), or take the default."""
    hotline = hotline_for_request()
    if hotline is None:
        return twiml(safe_answer(None, "menu action for an unknown line"))
    path = nav.decode(arg("p"))
    node = nav.locate(hotline.menu, path) if path is not None else None
    tries, count = int_arg("t", 0, 10), int_arg("n", 0, 10_000)
    if node is None:
        log.warning("menu position %r not found (config changed?); back to the top", arg("p"))
        path, node, tries = (), hotline.menu, 0
    heard = nav.interpret(node, posted("Digits"), form("FinishedOnKey", 2))
    where = nav.encode(path)
    record(hotline, "entry", str(count), menu=where, digits=heard.digits, result=heard.heard.value,
           key=heard.entry)  # a repeated callback adds nothing (logged when the events are written)
    if count >= MAX_PROMPTS:
        return twiml(_fallback_route(hotline, "too many prompts"))
    if heard.heard is nav.Heard.CHOSEN:
        return twiml(_go(hotline, heard.option, path + (heard.entry,), count))
    if heard.heard is nav.Heard.REPEAT:
        return xml(prompt_text(hotline, node, _menu_url(path, tries, count), []))
    if tries + 1 >= node.retries:
        return twiml(_default(hotline, node, path, count))
    warning = node.invalid_prompt if heard.heard is nav.Heard.INVALID else _timeout_prompt(node, hotline)
    return xml(prompt_text(hotline, node, _menu_url(path, tries + 1, count), [warning]))


def _menu_url(path: tuple[str, ...], tries: int, count: int) -> str:
    return url("/voice/menu", p=nav.encode(path), t=tries, n=count + 1)


def _timeout_prompt(node, hotline: Hotline) -> str:
    return node.timeout_prompt if isinstance(node, Menu) else text("no_key", hotline.language)


def _default(hotline: Hotline, node, path: tuple[str, ...], count: int) -> VoiceResponse | str:
    """Retries used up: the menu's default, a code entry's bare # when allowed, else the fallback."""
    if isinstance(node, Menu) and node.default is not None:
        record(hotline, "entry", f"{count}:default", menu=nav.encode(path), digits="", result="default",
               key=nav.DEFAULT_ENTRY)
        return _go(hotline, node.default, path + (nav.DEFAULT_ENTRY,), count)
    if not isinstance(node, Menu) and node.allow_empty and node.next is not None:
        record(hotline, "entry", f"{count}:default", menu=nav.encode(path), digits="", result="default", key="#")
        return _go(hotline, node.next, path + ("#",), count)
    return _fallback_route(hotline, "retries used up and no default")


def _go(hotline: Hotline, option, path: tuple[str, ...], count: int) -> VoiceResponse | str:
    """Follow a chosen option: a prompt, a service, the staff entry, or a message that ends the call."""
    landing = nav.follow(option)
    if landing.prompt is not None:
        return prompt(hotline, landing.prompt, url("/voice/menu", p=nav.encode(path), t=0, n=count + 1),
                      landing.says)
    final = landing.final
    if final is not None and final.kind is OptionKind.SERVICE and final.service in hotline.plan.services:
        return flow.reach_service(hotline, final.service, landing.says)
    if final is not None and final.kind is OptionKind.STAFF:
        record(hotline, "outcome", "staff", outcome=Outcome.STAFF.value, detail="staff entry")
        resp = VoiceResponse()
        for words in landing.says:
            speak(resp, words, hotline)
        resp.redirect(url("/voice/staff/start"), method="POST")
        return resp
    if final is not None:
        return _fallback_route(hotline, f"option leads to unknown service {final.service!r}")
    record(hotline, "outcome", "said", outcome=Outcome.SAID.value, detail=" ".join(landing.says)[:300])
    return say_and_hang_up(hotline, list(landing.says) + [text("goodbye", hotline.language)])


def _fallback_route(hotline: Hotline, reason: str) -> VoiceResponse:
    """Dial the hotline's fallback number (a person) when the menu cannot lead anywhere."""
    log.warning("call %s: %s; dialling the fallback %s", form("CallSid"), reason, hotline.fallback)
    record(hotline, "outcome", "fallback-route", outcome=Outcome.FALLBACK.value, detail=reason)
    resp = VoiceResponse()
    resp.dial(hotline.fallback, caller_id=caller_id(hotline), timeout=30, action=fallback_done_url(), method="POST")
    speak(resp, text("nobody", hotline.language), hotline)
    resp.hangup()
    return resp


@bp.post("/voice/fallback")
def fallback():
    """Twilio's Fallback URL: an apology and the hotline's fallback number; never touches Redis
    (Twilio calls it when the other webhooks failed, perhaps because Redis hangs): the events are
    spooled and reach the call log with the next flush."""
    hotline = hotline_for_request()
    if hotline is None:
        return twiml(say_and_hang_up(None, [text("unknown_line", None)]))
    probe_answer = probe_voice.fallback(hotline)  # a failed test call never rings anyone
    if probe_answer is not None:
        return probe_answer
    record(hotline, "fallback", "fallback", index=True, spool_only=True, detail=form("ErrorCode", 10),
           **{"from": form("From", 40)})
    record(hotline, "outcome", "fallback", spool_only=True, outcome=Outcome.FALLBACK.value,
           detail=f"Twilio error {form('ErrorCode', 10)}")
    resp = VoiceResponse()
    speak(resp, text("error", hotline.language), hotline)
    resp.dial(hotline.fallback, caller_id=caller_id(hotline), timeout=45, action=fallback_done_url(), method="POST")
    speak(resp, text("nobody", hotline.language), hotline)
    resp.hangup()
    return twiml(resp)


@bp.post("/voice/fallback/done")
def fallback_done():
    """A fallback <Dial> ended: hang up after a conversation, else say that nobody could be reached.

    Needs no Redis (the attempt is logged like every event: Redis, else the spool).
    """
    hotline = hotline_for_request()
    status = form("DialCallStatus", 20)
    connected = status in flow.CONNECTED
    if hotline is not None:
        record(hotline, "attempt", "fallback", step="fallback", numbers=[hotline.fallback], names=[],
               status=status or "unknown", screened=False, accepted_by=hotline.fallback if connected else None,
               duration=int_form("DialCallDuration"))
    resp = VoiceResponse()
    if not connected:
        speak(resp, text("nobody", hotline.language if hotline else None), hotline)
    resp.hangup()
    return twiml(resp)


@bp.post("/voice/status")
def status():
    """The call's status callback: note when and how it ended."""
    final = form("CallStatus", 20)
    if final in ("completed", "busy", "failed", "no-answer", "canceled"):
        record(hotline_for_request(), "end", "end", call_status=final, duration=int_form("CallDuration"))
    return nothing()
