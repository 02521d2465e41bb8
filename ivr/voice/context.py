"""Per-request helpers for the voice views: which hotline, which call, URLs, events, safe answers."""
from __future__ import annotations

import datetime as dt
import logging

from flask import Response, current_app, g, request

from ivr.app import OUTCOME_KINDS, HotlineState, run_outcome_hooks, state_of, with_outcome_mark
from ivr.calls.append import DEFAULT_TTL_DAYS, Score
from ivr.calls.events import Outcome, event
from ivr.calls.spool import valid_sid
from ivr.calls.store import UNKNOWN_LINE
from ivr.digits import ascii_int
from ivr.hotline import Hotline
from ivr.numbers import is_valid_e164
from ivr.menus.twiml import speak
from ivr.voice import twiml_text
from ivr.voice.query import query_text
from ivr.voice.texts import text
from ivr.webrequest import posted_fields, query_args
from twilio.twiml.voice_response import VoiceResponse

log = logging.getLogger(__name__)


def state() -> HotlineState:
    """Return the current app's HotlineState."""
    return state_of(current_app._get_current_object())   # the proxy's attribute lookup costs 5 times more


def int_form(name: str) -> int | None:
    """Return a posted count of seconds (ASCII digits, at most 8), None when missing or malformed."""
    return ascii_int(form(name, 9), None, 99_999_999)


def form(name: str, limit: int = 64) -> str:
    """Return a posted field as text, cut to `limit` characters ('' when missing)."""
    return (posted_fields(request._get_current_object()).get(name) or "")[:limit]


def posted(name: str) -> str | None:
    """Return a posted field's (first) value as sent, None when missing: `request.form.get(name)`."""
    return posted_fields(request._get_current_object()).get(name)


def arg(name: str, limit: int = 200) -> str:
    """Return a query argument as text, cut to `limit` characters ('' when missing)."""
    req = request._get_current_object()
    if not req.query_string:   # most of Twilio's posts have none: no query parsing for them
        return ""
    return (query_args(req).get(name) or "")[:limit]


def int_arg(name: str, default: int = 0, high: int = 1000) -> int:
    """Return a small non-negative int query argument (ASCII digits), `default` when missing or malformed."""
    return ascii_int(arg(name, 8), default, high)


def call_sid() -> str:
    """Return the posted CallSid when it looks like one, else ''."""
    sid = form("CallSid")
    return sid if valid_sid(sid) else ""


def hotline_for_request() -> Hotline | None:
    """Return the hotline by the `line` query argument (screen legs) or the posted To/Called."""
    config = state().config
    req = request._get_current_object()   # one context lookup for the three names
    fields = posted_fields(req)
    line = (query_args(req).get("line") or "")[:20] if req.query_string else ""   # as arg("line", 20)
    for candidate in (line, (fields.get("To") or "")[:40], (fields.get("Called") or "")[:40]):
        if candidate:
            found = config.find(candidate)
            if found is not None:
                return found
    return None


def now() -> dt.datetime:
    """Return the app's clock reading (aware)."""
    return state().now()


def url(path: str, **params) -> str:
    """Return an absolute webhook URL (PUBLIC_BASE_URL when set) with `params` as query."""
    base = state().public_base_url or request.url_root  # url_root keeps a mount prefix (SCRIPT_NAME)
    query = query_text(params)   # urlencode's text for the parameters that are not None
    return base.rstrip("/") + path + (f"?{query}" if query else "")


def twiml(resp: VoiceResponse | str) -> Response:
    """Return TwiML as a 200 text/xml response (the text as the library's str() makes it); a
    document already made as text (ivr.voice.step_cache) goes as it is."""
    return xml(resp if isinstance(resp, str) else twiml_text.to_text(resp))


XML = "text/xml; charset=utf-8"  # what mimetype="text/xml" gives, without working it out per answer


def xml(document: str) -> Response:
    """Return a TwiML document (text) as a 200 text/xml response."""
    return Response(document, status=200, content_type=XML)


_NOTHING = twiml_text.to_text(VoiceResponse())   # an empty <Response />, written once


def nothing() -> Response:
    """Return the empty TwiML answer (what twiml(VoiceResponse()) returns) of the callbacks that
    only take note, without building it anew each time."""
    return xml(_NOTHING)


def record(hotline: Hotline | None, kind: str, dedup: str, /, index: bool = False, sid: str | None = None,
           spool_only: bool = False, **data) -> bool:
    """Add an event to the current call's record; returns False for a duplicate or no CallSid.

    Within a /voice request the event waits for the end of the view (one write for all of them):
    True then means only that this request had not recorded it yet.

    `spool_only`: write to the spool, not Redis (replayed later; for views that must not touch Redis).
    Never raises: a failing store is logged (the call goes on).
    """
    sid = sid if sid is not None else call_sid()
    if not sid:
        return False
    st = state()
    at = st.now()
    line = hotline.line if hotline else UNKNOWN_LINE  # never a key named after whatever To was posted
    days = hotline.call_log_days if hotline else DEFAULT_TTL_DAYS
    store = st.store
    ev = event(sid, line, kind, dedup, at, **data)
    if kind in OUTCOME_KINDS and st.outcome_marks:
        ev = with_outcome_mark(st, hotline, ev, at)
    try:
        fresh = store.add(ev, days, Score(at.timestamp()) if index else None, spool_only=spool_only)
    except Exception:  # noqa: BLE001 - the call must go on even when nothing can be written
        log.exception("could not record %s event for call %s", kind, sid)
        return False
    if fresh and kind in OUTCOME_KINDS:
        if store.batching() and not spool_only:
            # Run the hooks once the batch is written, and only if Redis took the event as new:
            # a hook's job must find the event in the log, and a repeated callback pages no one.
            g._get_current_object().setdefault("hotline_outcomes", {})[(sid, ev["id"])] = (hotline, sid, kind, data, at)
        else:
            _outcome_hooks(hotline, sid, kind, data, at)
    return fresh


def outcome_hooks_after_commit(committed: list[tuple[dict, bool]]) -> None:
    """Run the outcome hooks deferred by `record` for the events a batch commit found new
    (events of a later commit of the same request keep waiting)."""
    waiting = g._get_current_object().get("hotline_outcomes")
    if not waiting:
        return
    for ev, new in committed:
        deferred = waiting.pop((ev["sid"], ev["id"]), None)
        if new and deferred is not None:
            _outcome_hooks(*deferred)


def _outcome_hooks(hotline: Hotline | None, sid: str, kind: str, data: dict, at: dt.datetime) -> None:
    """Run the outcome hooks (see ivr.app) while Redis answers; a failing hook is logged."""
    st = state()
    if st.outcome_hooks and st.store.available():
        run_outcome_hooks(st, hotline, sid, kind, data, at)


def safe_answer(hotline: Hotline | None, reason: str) -> VoiceResponse:
    """Return the apology + fallback-number TwiML used whenever something went wrong."""
    resp = VoiceResponse()
    if hotline is None:
        speak(resp, text("unknown_line", None), None)
        resp.hangup()
        return resp
    speak(resp, text("error", hotline.language), hotline)
    resp.dial(hotline.fallback, caller_id=caller_id(hotline), action=fallback_done_url(), method="POST")
    speak(resp, text("nobody", hotline.language), hotline)
    resp.hangup()
    record(hotline, "outcome", f"error:{request.path}", outcome=Outcome.ERROR.value, detail=reason[:300])
    return resp


def fallback_done_url() -> str:
    """Return the action URL of every fallback <Dial>: without one, Twilio goes on to the next verb
    ("nobody could be reached") also after a finished conversation."""
    return url("/voice/fallback/done")


def caller_id(hotline: Hotline) -> str:
    """Return the caller ID for dialling out: the caller's number, the hotline's, or a set number."""
    if hotline.caller_id == "caller":
        caller = form("From", 40)
        if is_valid_e164(caller):
            return caller
        to = form("To", 40)
        return to if to in hotline.numbers else hotline.line
    if hotline.caller_id == "hotline":
        to = form("To", 40)
        return to if to in hotline.numbers else hotline.line
    return hotline.caller_id
