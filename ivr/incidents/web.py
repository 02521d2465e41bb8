"""The incidents' part of the Flask app: `init_app(app)` adds

- the outcome mark: when a call's outcome is logged (or the call ends), a mark written with that
  event (ivr.incidents.due) has `hotline worker` enqueue the RQ job ivr.incidents.jobs.settle, which
  numbers the call's incident and pages about a missed one;
- POST /sms/incoming, Twilio's Messaging webhook (signed; see ivr.signature): OK / OK 17 /
  DONE 17 from a paged number, answered with TwiML <Message>;
- GET /r/<token>: a voicemail behind a signed, expiring link (ivr.incidents.links), streamed
  from Twilio with the account's credentials so the person paged can simply open it.
- the incidents' gauges on /metrics (ivr.incidents.gauges).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import Blueprint, Flask, Response, current_app, has_request_context, request, stream_with_context
from redis import Redis, RedisError
from twilio.twiml.messaging_response import MessagingResponse

from ivr.hotline import Hotline
from ivr.incidents import due, gauges, links, replies
from ivr.incidents.store import IncidentStore
from ivr.metrics import scrape
from ivr.numbers import is_valid_e164
from ivr.webrequest import posted_fields

log = logging.getLogger(__name__)
bp = Blueprint("incidents", __name__)


def _state():
    from ivr.app import state_of  # ivr.app loads this module as a plugin

    return state_of(current_app._get_current_object())


def outcome_mark(hotline: Hotline | None, ev: dict, at: dt.datetime) -> tuple[str, float, str] | None:
    """Return the follow-up that settles the call of a fresh outcome, end or attempt event (see
    ivr.incidents.due), or None when the event does not settle it (or there is no hotline)."""
    if hotline is None or not ev.get("sid") or due.settle_when(ev) is None:
        return None  # e.g. a step's attempt: no caller's number to check, nothing to mark
    st = _state()
    # A spool replay may run inside another request (a console page): only a call's webhook has its caller.
    req = request._get_current_object() if has_request_context() else None   # one context lookup
    live = req is not None and req.path.startswith("/voice")
    caller = (posted_fields(req).get("From") or "") if live else ""
    base = st.public_base_url or (req.url_root if live else "")
    return due.mark(hotline, ev, at, caller if is_valid_e164(caller) else "", base.rstrip("/"))


def _twiml(text: str | None) -> Response:
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return Response(str(resp), status=200, mimetype="text/xml")


@bp.post("/sms/incoming")
def sms_incoming():
    """A paged person's reply: acknowledge or resolve, answer with a short <Message>."""
    sender = (request.form.get("From") or "")[:20]
    body = (request.form.get("Body") or "")[:160]
    st = _state()
    if st.redis is None or not is_valid_e164(sender):
        log.warning("SMS from %r not handled (%s)", sender, "no Redis" if st.redis is None else "bad From")
        return _twiml(None)
    try:
        return _twiml(replies.handle(st.redis, sender, body, st.now()))
    except RedisError as exc:
        log.error("SMS reply from %s not handled, Redis unavailable: %s", sender, exc)
    except Exception:  # noqa: BLE001 - Twilio gets valid TwiML, never a stack trace
        log.exception("SMS reply from %s not handled", sender)
    return _twiml(None)


def _media_url(recording_url: str) -> str | None:
    """Return the URL to fetch a Twilio recording as MP3 (TWILIO_API_BASE_URL honoured), or None
    when it is not a Twilio URL (we never fetch anything else)."""
    parts = urlsplit(recording_url)
    host = parts.hostname or ""
    if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return None
    path = parts.path if parts.path.endswith(".mp3") else parts.path + ".mp3"
    base = os.environ.get("TWILIO_API_BASE_URL")
    if base:
        b = urlsplit(base)
        return urlunsplit((b.scheme, b.netloc, path, "", ""))
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@bp.get("/r/<token>")
def recording(token: str):
    """Stream an incident's voicemail for a valid link; 404 for an unknown or expired one."""
    found = links.read(token, links.secret_from_env())
    gone = Response("This link is unknown or has expired.\n", status=404, mimetype="text/plain")
    st = _state()
    if found is None or st.redis is None:
        return gone
    try:
        incident = IncidentStore(st.redis).get(*found)
    except RedisError:
        return Response("Try again in a moment.\n", status=503, mimetype="text/plain")
    media = _media_url((incident or {}).get("recording_url") or "")
    if media is None:
        return gone
    auth = (os.environ.get("TWILIO_ACCOUNT_SID") or "", os.environ.get("TWILIO_AUTH_TOKEN") or "")
    try:
        upstream = requests.get(media, auth=auth, stream=True, timeout=(3, 10))
    except requests.RequestException as exc:
        log.warning("recording of incident %s/%s not fetched: %s", *found, exc)
        return Response("The recording cannot be fetched now; try again.\n", status=502, mimetype="text/plain")
    if upstream.status_code != 200:
        upstream.close()
        log.warning("recording of incident %s/%s: Twilio answered %s", *found, upstream.status_code)
        return Response("The recording cannot be fetched now; try again.\n", status=502, mimetype="text/plain")
    return Response(stream_with_context(upstream.iter_content(16384)), status=200,
                    mimetype=upstream.headers.get("Content-Type") or "audio/mpeg",
                    headers={"Cache-Control": "private, no-store"})


def init_app(app: Flask) -> None:
    """Register the SMS reply webhook, the recording links, the outcome mark (settling) and the
    incidents' gauges."""
    app.register_blueprint(bp)
    app.extensions["hotline.outcome_marks"].append(outcome_mark)
    scrape.add_source(gauges.families)
