"""The app's answer to a probe call: the menu as callers hear it, then the route said, nobody rung.

`answer()` is called at the start of the /voice view; it returns None for every caller that is
not one of the hotline's `probe.callers`. A probe call walks the real menu (same prompts, same
key handling through ivr.menus.nav) on its own Gather action, /voice/probe/menu; when it reaches
a service it decides the route for the app's clock, logs it like a call's decision with
`extra.probe = true` and outcome "probe", says it and hangs up. It never dials, never runs the
service hooks (outage links), and a key it does not expect ends it (a probe presses exact keys).
Also when something fails: an exception in a probe view, or Twilio's Fallback URL for a probe
call (`fallback()`), ends the probe with the reason logged instead of dialling the fallback number.
"""
from __future__ import annotations

import functools
import logging

import redis
from flask import Blueprint, Flask, Response
from twilio.twiml.voice_response import VoiceResponse

from ivr import keys as rkeys
from ivr.calls.event_json import decision_dict
from ivr.hotline import Hotline
from ivr.menus import nav
from ivr.menus.model import OptionKind
from ivr.menus.twiml import prompt, say_and_hang_up
from ivr.voice.context import arg, call_sid, form, hotline_for_request, int_arg, posted, record, state, twiml, url
from routing import decide

log = logging.getLogger(__name__)
bp = Blueprint("voice_probe", __name__)

OUTCOME = "probe"            # the call record's outcome of every probe call
PROBE_LEG_SECONDS = 240      # the probe's own leg (Direction outbound-api) stays silent this long
TOKEN_SECONDS = 3600         # how long the token -> CallSid link is kept for `hotline probe`


def init_app(app: Flask) -> None:
    """Register the probe's Gather action (a plugin of ivr.app)."""
    app.register_blueprint(bp)


def is_probe(hotline: Hotline | None) -> bool:
    """Return True when the posted From is one of the hotline's probe numbers."""
    return bool(hotline and hotline.probe and form("From", 40) in hotline.probe.callers)


def _never_dial(view):
    """Wrap a probe view: an exception ends the probe (logged, outcome probe) instead of reaching
    the voice error handler, whose safe answer dials the fallback number."""
    @functools.wraps(view)
    def wrapped(hotline: Hotline, *args):
        try:
            return view(hotline, *args)
        except Exception as exc:  # noqa: BLE001 - a probe must never ring anyone
            log.exception("probe call %s failed", call_sid())
            return twiml(_end(hotline, f"the app failed: {type(exc).__name__}: {exc}"[:300]))
    return wrapped


def answer(hotline: Hotline | None) -> Response | None:
    """Return the TwiML for a probe caller at the start of a call, or None for anyone else."""
    if not is_probe(hotline):
        return None
    return _answer(hotline)


def fallback(hotline: Hotline | None) -> Response | None:
    """Return the TwiML for Twilio's Fallback URL on a probe call (None for anyone else): the
    probe ends with the error logged (spooled only, like every fallback event), nobody is dialled."""
    if not is_probe(hotline):
        return None
    detail = f"no service reached: Twilio used the Fallback URL (error {form('ErrorCode', 10) or '?'})"
    record(hotline, "outcome", "probe-fallback", index=True, spool_only=True, outcome=OUTCOME, detail=detail)
    return twiml(say_and_hang_up(hotline, ["Test call ended: the hotline failed."]))


@_never_dial
def _answer(hotline: Hotline) -> Response:
    if form("Direction", 20) == "outbound-api":
        # The probe's own leg (the Calls resource's Url): listen while the hotline answers the other.
        resp = VoiceResponse()
        resp.pause(length=PROBE_LEG_SECONDS)
        resp.hangup()
        return twiml(resp)
    token = _claim_token(hotline)
    record(hotline, "start", "start", index=True, hotline=hotline.name, to=form("To", 40), announced=[],
           **{"from": form("From", 40)})
    _mark(hotline, token)
    return twiml(prompt(hotline, hotline.menu, _menu_url((), 0, 0, token)))


def _claim_token(hotline: Hotline) -> str:
    """Take the token `hotline probe` left for this call and link it to the CallSid ('' when none)."""
    client, sid = state().redis, call_sid()
    if client is None or not sid:
        return ""
    try:
        with client.pipeline() as pipe:  # GET and DEL in one transaction (GETDEL needs Redis 6.2)
            key = rkeys.probe_pending(hotline.line, form("From", 40))
            token = pipe.get(key).delete(key).execute()[0] or ""
        if token:
            client.set(rkeys.probe_call(token), sid, ex=TOKEN_SECONDS)
        return token
    except redis.RedisError as exc:
        log.warning("probe call %s: could not read the probe token (%s)", sid, exc)
        return ""


def _mark(hotline: Hotline, token: str) -> None:
    """Mark the call record as a probe (extra.probe) before any service is reached."""
    record(hotline, "service", "probe", service=None, decision=None,
           extra={"probe": True, "probe_token": token or None})


def _menu_url(path: tuple[str, ...], tries: int, count: int, token: str) -> str:
    return url("/voice/probe/menu", p=nav.encode(path), t=tries, n=count, tk=token or None)


@bp.post("/voice/probe/menu")
def probe_menu():
    """A Gather result of a probe call: follow the key, or end the probe saying why."""
    hotline = hotline_for_request()
    if not is_probe(hotline):
        return twiml(say_and_hang_up(hotline, ["This address answers test calls only."]))
    return _menu(hotline)


@_never_dial
def _menu(hotline: Hotline) -> Response:
    token, count = arg("tk", 40), int_arg("n", 0, 10_000)
    path = nav.decode(arg("p"))
    node = nav.locate(hotline.menu, path) if path is not None else None
    if node is None:
        return twiml(_end(hotline, f"menu position {arg('p')!r} not found (config changed during the call)"))
    heard = nav.interpret(node, posted("Digits"), form("FinishedOnKey", 2))
    record(hotline, "entry", str(count), menu=nav.encode(path), digits=heard.digits, result=heard.heard.value,
           key=heard.entry)
    if heard.heard is nav.Heard.REPEAT:
        return twiml(prompt(hotline, node, _menu_url(path, int_arg("t", 0, 10), count + 1, token)))
    if heard.heard is not nav.Heard.CHOSEN:
        where = "the top menu" if not path else f"menu {'/'.join(path)}"
        return twiml(_end(hotline, f"{heard.heard.value} at {where} (digits {heard.digits!r})"))
    landing = nav.follow(heard.option)
    if landing.prompt is not None:
        return twiml(prompt(hotline, landing.prompt, _menu_url(path + (heard.entry,), 0, count + 1, token)))
    final = landing.final
    if final is not None and final.kind is OptionKind.SERVICE and final.service in hotline.plan.services:
        return twiml(_report(hotline, final.service))
    return twiml(_end(hotline, "the keys lead to " + ("the staff entry" if final is not None else "a message")))


def _report(hotline: Hotline, service_id: str) -> VoiceResponse:
    """Decide the route now, log it as this probe's decision and say it; nobody is rung."""
    decision = decide(hotline.plan, service_id, state().now())
    record(hotline, "service", f"service:{hotline.line}", service=service_id, decision=decision_dict(decision),
           extra={"probe": True})
    said = f"Test call. {decision.service_name}: {decision.route.value}, {decision.target_name}."
    record(hotline, "outcome", "probe", outcome=OUTCOME, detail=said)
    return say_and_hang_up(hotline, [said])


def _end(hotline: Hotline, why: str) -> VoiceResponse:
    """End a probe that reached no service, logging why."""
    record(hotline, "outcome", "probe", outcome=OUTCOME, detail=f"no service reached: {why}")
    return say_and_hang_up(hotline, [f"Test call ended: {why}."])
