"""The staff entry by phone: declare or restore an outage (Flask blueprint under /voice/staff).

Every view re-checks the caller (allow-list, optionally the caller ID's STIR/SHAKEN attestation,
lockout, and after the PIN a short-lived session per CallSid in Redis), so no step can be reached
by posting to it directly. The PIN is compared with the configured PBKDF2 hash and is never logged
or recorded. Each comparison first takes an attempt slot (ivr.outages.lockout), so concurrent
requests never compare more than `max_attempts` PINs; after `max_attempts` wrong PINs the caller's
number is locked out for `lockout_minutes` (counted from the last attempt).
When Redis does not answer, the staff entry says it is not available and goes back to the menu.
Signatures are checked by ivr.signature for everything under /voice.
"""
from __future__ import annotations

import logging

import redis
from flask import Blueprint, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr import keys
from ivr.calls import gate
from ivr.calls.events import Outcome
from ivr.digits import ascii_int
from ivr.hotline import Hotline
from ivr.menus.twiml import speak
from ivr.outages import pins, service
from ivr.outages.lockout import PinAttempts
from ivr.outages.staff_texts import say
from ivr.voice.context import call_sid, form, hotline_for_request, int_arg, now, record, state, twiml, url

log = logging.getLogger(__name__)
bp = Blueprint("staff", __name__, url_prefix="/voice/staff")
SESSION_SECONDS = 600
MAX_PROMPTS = 3


def _bye(hotline: Hotline | None, *names: str, **values) -> VoiceResponse:
    resp = VoiceResponse()
    language = hotline.language if hotline else "en"
    for name in (*names, "goodbye"):
        speak(resp, say(name, language, **values), hotline)
    resp.hangup()
    return resp


def _gather(hotline: Hotline, action: str, sentences: list[str], digits: int | None, timeout: int = 8) -> VoiceResponse:
    resp = VoiceResponse()
    kwargs = {"num_digits": digits, "finish_on_key": ""} if digits else {"finish_on_key": "#"}
    gather = Gather(input="dtmf", action=action, method="POST", timeout=timeout,
                    action_on_empty_result=True, language=hotline.language, **kwargs)
    for words in sentences:
        speak(gather, words, hotline)
    resp.append(gather)
    resp.redirect(action, method="POST")
    return resp


@bp.errorhandler(redis.RedisError)
def _redis_unavailable(exc: redis.RedisError):
    """Redis (where the lockout and sessions live) did not answer: the staff entry is not available
    now; the caller goes back to the menu, which works without Redis."""
    log.warning("staff entry on %s not available: Redis did not answer (%s)", request.path, exc)
    hotline = hotline_for_request()
    return twiml(_back_to_menu(hotline, "not_available") if hotline else _bye(None, "not_available"))


def _back_to_menu(hotline: Hotline, *names: str) -> VoiceResponse:
    """Say why the staff entry is refused, then take the caller back to the hotline's menu: someone
    who pressed the hidden key by mistake (or is locked out) may still need to report a problem."""
    resp = VoiceResponse()
    for name in names:
        speak(resp, say(name, hotline.language), hotline)
    resp.redirect(url("/voice"), method="POST")
    return resp


def _admit(need_session: bool) -> tuple[Hotline | None, VoiceResponse | None]:
    """Return (hotline, None) when the caller may go on, else (hotline, the answer that ends it)."""
    hotline = hotline_for_request()
    staff = hotline.outages.staff if hotline and hotline.outages else None
    redis = state().redis
    if hotline is None:
        return hotline, _bye(hotline, "not_available")
    if staff is None or redis is None:
        return hotline, _back_to_menu(hotline, "not_available")
    caller = form("From", 40)
    if caller not in staff.callers:
        log.warning("staff entry refused for a caller not on the allow-list of %s", hotline.line)
        return hotline, _back_to_menu(hotline, "not_available")
    if staff.require_attestation and _attestation(hotline) != staff.require_attestation:
        log.warning("staff entry refused on %s: caller ID not attested %s", hotline.line, staff.require_attestation)
        return hotline, _back_to_menu(hotline, "not_available")
    if _attempts(hotline, caller).locked():
        log.warning("staff entry refused for a locked-out caller on %s", hotline.line)
        return hotline, _back_to_menu(hotline, "locked")
    if need_session and redis.get(keys.staff_session(call_sid())) != caller:
        return hotline, _bye(hotline, "not_available")
    return hotline, None


def _attempts(hotline: Hotline, caller: str) -> PinAttempts:
    staff = hotline.outages.staff
    return PinAttempts(state().redis, hotline.line, caller, staff.max_attempts, staff.lockout_minutes)


def _attestation(hotline: Hotline) -> str | None:
    """Return the STIR/SHAKEN attestation level ("A", "B", "C") that Twilio verified for the caller
    ID of this call (its StirVerstat, from this request or the call's first webhook), else None."""
    verstat = form("StirVerstat", 40)
    if not verstat:
        starts = [ev for ev in state().store.events(call_sid())
                  if ev.get("type") == "start" and ev.get("line") == hotline.line]
        verstat = str(starts[0].get("stir") or "") if starts else ""
    prefix = "TN-Validation-Passed-"
    return verstat[len(prefix):] if verstat.startswith(prefix) and len(verstat) == len(prefix) + 1 else None


@bp.post("/start")
def start():
    """Ask an allow-listed caller for the PIN."""
    hotline, refusal = _admit(need_session=False)
    if refusal is not None:
        return twiml(refusal)
    return twiml(_gather(hotline, url("/voice/staff/pin", t=1), [say("pin", hotline.language)], None, 10))


@bp.post("/pin")
def pin():
    """Check the PIN (never logged); count wrong ones toward the lockout."""
    hotline, refusal = _admit(need_session=False)
    if refusal is not None:
        return twiml(refusal)
    staff, redis, caller = hotline.outages.staff, state().redis, form("From", 40)
    digits, tries = form("Digits", 16), int_arg("t", 1, 10)
    if not digits:
        if tries >= MAX_PROMPTS:
            return twiml(_bye(hotline))
        return twiml(_gather(hotline, url("/voice/staff/pin", t=tries + 1), [say("pin", hotline.language)], None, 10))
    attempts = _attempts(hotline, caller)
    if not attempts.take():
        log.warning("staff PIN not checked on %s: attempts used up or under way", hotline.line)
        return twiml(_back_to_menu(hotline, "locked"))
    try:
        right = pins.check_pin(digits, staff.pin_hash)
    except BaseException:
        attempts.release()
        raise
    # The hash is slow on purpose and may outlast the request's Redis budget on a busy machine:
    # the verdict gets a budget of its own, so a taken slot always becomes a fail or is freed.
    gate.start_budget(gate.CALL_BUDGET)
    if right and attempts.right():
        redis.set(keys.staff_session(call_sid()), caller, ex=SESSION_SECONDS)
        record(hotline, "outcome", "staff:pin", outcome=Outcome.STAFF.value, detail="PIN accepted")
        return twiml(_gather(hotline, url("/voice/staff/action", t=1), [say("action", hotline.language)], 1))
    if right:
        log.warning("right staff PIN on %s refused: locked out meanwhile", hotline.line)
        return twiml(_back_to_menu(hotline, "locked"))
    failures = attempts.wrong()
    log.warning("wrong staff PIN on %s (%d of %d)", hotline.line, failures, staff.max_attempts)
    if failures >= staff.max_attempts:
        record(hotline, "outcome", "staff:locked", outcome=Outcome.STAFF.value, detail="locked out")
        return twiml(_back_to_menu(hotline, "wrong_pin", "locked"))
    return twiml(_gather(hotline, url("/voice/staff/pin", t=1),
                         [say("wrong_pin", hotline.language), say("pin", hotline.language)], None, 10))


@bp.post("/action")
def action():
    """1 = declare, 2 = restore; then choose the system."""
    hotline, refusal = _admit(need_session=True)
    if refusal is not None:
        return twiml(refusal)
    digits, tries = form("Digits", 4), int_arg("t", 1, 10)
    verb = {"1": "declare", "2": "restore"}.get(digits)
    if verb is None:
        if tries >= MAX_PROMPTS:
            return twiml(_bye(hotline))
        lead = [say("invalid", hotline.language)] if digits else []
        return twiml(_gather(hotline, url("/voice/staff/action", t=tries + 1), lead + [say("action", hotline.language)], 1))
    return twiml(_system_prompt(hotline, verb, 1, []))


def _system_prompt(hotline: Hotline, verb: str, tries: int, lead: list[str]) -> VoiceResponse:
    choices = [say("system", hotline.language, key=i, name=name)
               for i, name in enumerate(hotline.systems.values(), start=1)]
    return _gather(hotline, url("/voice/staff/system", do=verb, t=tries), lead + choices, 1)


@bp.post("/system")
def system():
    """Declare or restore the chosen system, say what happened, hang up."""
    hotline, refusal = _admit(need_session=True)
    if refusal is not None:
        return twiml(refusal)
    verb = request_verb()
    systems = list(hotline.systems)
    digits, tries = form("Digits", 2), int_arg("t", 1, 10)
    if not 1 <= (ascii_int(digits) or 0) <= len(systems):
        if tries >= MAX_PROMPTS:
            return twiml(_bye(hotline))
        lead = [say("invalid", hotline.language)] if digits else []
        return twiml(_system_prompt(hotline, verb, tries + 1, lead))
    system_id = systems[int(digits) - 1]
    name = hotline.systems[system_id]
    by = f"phone:{form('From', 40)}"
    try:
        if verb == "declare":
            result = service.declare(state().redis, hotline, system_id, "", by, now())
        else:
            result = service.restore(state().redis, hotline, system_id, by, now())
    except service.OutageError as exc:
        if verb == "restore" and "no open outage" in str(exc):
            return twiml(_bye(hotline, "none_open", system=name))
        log.error("staff %s of %s on %s failed: %s", verb, system_id, hotline.line, exc)
        return twiml(_bye(hotline, "failed"))
    detail = f"{verb} {system_id}: outage {result.outage.id}" + ("" if result.changed else " (already open)")
    record(hotline, "outcome", f"staff:{verb}", outcome=Outcome.STAFF.value, detail=detail)
    if verb == "declare" and not result.changed:
        return twiml(_bye(hotline, "already_open", system=name))
    count = _recipients(result.blasts)
    return twiml(_bye(hotline, "declared" if verb == "declare" else "restored", system=name, count=count))


def request_verb() -> str:
    """Return the `do` query argument: "declare" or "restore" (anything else is "declare")."""
    from ivr.voice.context import arg

    return "restore" if arg("do", 10) == "restore" else "declare"


def _recipients(blast_ids: tuple[str, ...]) -> int:
    from ivr.sms.blast import BlastStore

    store = BlastStore(state().redis)
    return sum(store.progress(b)["total"] for b in blast_ids if b.endswith(("-down", "-restored")))
