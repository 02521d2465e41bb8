"""Twilio voice webhooks (Flask blueprint). Thin views over ivr.menus, ivr.voice.flow and ivr.calls.

Endpoints (all POST, all signed by Twilio): /voice (incoming call), /voice/menu (Gather action),
/voice/dial (Dial action), /voice/screen and /voice/screen/answer (callee's whisper),
/voice/recorded (Record action), /voice/recording (recording status), /voice/status (call status
callback), /voice/fallback (Twilio's Fallback URL). No voice view ever answers a call with a 5xx:
an exception becomes an apology and a dial to the hotline's fallback number. Every request under
/voice gets one Redis time budget (ivr.calls.gate.CALL_BUDGET), and its call events are handed on
together when the view is done, before the answer goes out: into the process's journal, from which
its write-behind flusher writes them with one script call per batch (ivr.calls.behind); what Redis
does not acknowledge is spooled. No view waits for a write.
"""
from __future__ import annotations

import logging

from flask import Flask, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr.calls import gate

log = logging.getLogger(__name__)

# Refusals of requests that are not a call's webhook (unsigned, other method, too slow, too large).
REFUSALS = (403, 405, 408, 413)


def init_app(app: Flask) -> None:
    """Register the voice blueprints and the safe-TwiML error handler."""
    from ivr.voice.chain_views import bp as chain_bp
    from ivr.voice.context import hotline_for_request, outcome_hooks_after_commit, safe_answer, twiml
    from ivr.voice.menu_views import bp as menu_bp

    app.register_blueprint(menu_bp)
    app.register_blueprint(chain_bp)

    store = app.extensions["hotline"].store  # ivr.app.HotlineState

    @app.before_request
    def _redis_budget():
        if request._get_current_object().path.startswith("/voice"):
            gate.start_budget(gate.CALL_BUDGET)
            store.begin_batch()

    @app.after_request
    def _commit_events(response):
        if request._get_current_object().path.startswith("/voice"):
            # Into this process's journal, written to Redis by its write-behind flusher, which
            # runs the outcome hooks (incidents) for the events Redis found new (ivr.calls.behind).
            # Without a write-behind: one script call now, what Redis does not take spooled.
            outcome_hooks_after_commit(store.commit_batch(behind=True))
        return response

    @app.teardown_request
    def _end_redis_budget(_exc):
        store.end_batch()
        gate.end_budget()

    @app.errorhandler(Exception)
    def _safe(exc: Exception):
        if isinstance(exc, HTTPException) and (exc.code in REFUSALS or not request.path.startswith("/voice")):
            return exc  # requests Twilio never sends for a call: refused as they are, quietly
        if not request.path.startswith("/voice"):
            log.exception("unhandled error on %s", request.path)
            return exc if isinstance(exc, HTTPException) else ("internal error", 500)
        log.error("voice webhook %s failed; answering with the safe route", request.path, exc_info=exc)
        if request.path.startswith("/voice/screen") or request.path in ("/voice/status", "/voice/recording"):
            resp = VoiceResponse()
            if request.path.startswith("/voice/screen"):
                resp.hangup()  # the callee's leg: hanging up lets the caller's escalation go on
            return twiml(resp)
        try:
            hotline = hotline_for_request()
        except Exception:  # noqa: BLE001
            hotline = None
        return twiml(safe_answer(hotline, f"{type(exc).__name__}: {exc}"))
