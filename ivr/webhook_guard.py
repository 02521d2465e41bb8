"""Refusals before a webhook body is parsed or its signature checked.

Twilio only ever POSTs small form bodies (a few kB) that arrive at once. Under the webhook prefixes:
- another method than POST: 405 (logged at INFO, nothing recorded);
- a Content-Length over the cap (64 kB): 413 before a byte of the body is read; a chunked body
  that grows to the cap: 413 as well (the cap is Flask's app-wide MAX_CONTENT_LENGTH: no route of
  the app takes more);
- under gunicorn, a body that has not fully arrived within `HOTLINE_BODY_SECONDS` (default 3):
  408. This bounds how long one slow client holds a worker thread; it cannot stop many slow clients
  from holding all of them at once, which is the reverse proxy's job (deploy/nginx-hotline.conf).
A refused connection's read side is shut, so gunicorn does not read on for the rest of the body.
"""
from __future__ import annotations

import logging
import os
import socket

from flask import Flask, Response, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from ivr import deadlines

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
BODY_SECONDS = 3.0  # Twilio sends a webhook body at once; 3 s leaves room for TCP retransmits


def body_seconds_from_env() -> float:
    """Return HOTLINE_BODY_SECONDS as seconds (BODY_SECONDS when unset or not a positive number)."""
    try:
        value = float(os.environ.get("HOTLINE_BODY_SECONDS") or BODY_SECONDS)
    except ValueError:
        return BODY_SECONDS
    return value if 0 < value <= 60 else BODY_SECONDS


def _refuse(status: int, why: str, **headers: str) -> Response:
    """Return a short plain refusal and stop reading from the client (gunicorn's socket)."""
    sock = request.environ.get("gunicorn.socket")
    if sock is not None and status != 405:
        _shut_reading(sock)
    return Response(f"{why}\n", status=status, mimetype="text/plain", headers=headers)


def _shut_reading(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def _read_within(seconds: float) -> Response | None:
    """Read the whole body into the request's cache within `seconds`; return a refusal or None.

    Only under gunicorn (its socket is in the environ): the process's watchdog (ivr.deadlines)
    shuts the socket's read side at the deadline (at most 0.1 s late), which ends a blocked read.
    """
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        return None
    cut: list[bool] = []  # set (appended to) on the watchdog thread when the deadline passed

    def _cut() -> None:
        cut.append(True)
        _shut_reading(sock)

    timer = deadlines.after(seconds, _cut)
    try:
        body = request.get_data(cache=True)
        if request.content_length is None and len(body) >= MAX_BODY_BYTES:
            raise RequestEntityTooLarge()   # Flask's limit ends a chunked body at the cap without an error
    except RequestEntityTooLarge:
        log.warning("refused POST %s: chunked body over %d bytes", request.path, MAX_BODY_BYTES)
        return _refuse(413, "request body too large")
    except (ClientDisconnected, OSError):
        if not cut:
            return _refuse(400, "incomplete request body")
    finally:
        timer.cancel()
    if cut:
        log.warning("refused POST %s: body not received within %.1f s", request.path, seconds)
        return _refuse(408, "request body too slow")
    return None


def init_app(app: Flask, prefixes: tuple[str, ...], body_seconds: float | None = None) -> None:
    """Guard requests under `prefixes` (register before the signature check: it reads the body)."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    seconds = body_seconds_from_env() if body_seconds is None else body_seconds

    @app.before_request
    def _guard_webhook():
        if not request.path.startswith(prefixes):
            return None
        if request.method != "POST":
            log.info("refused %s %s: webhooks are POST only", request.method, request.path)
            return _refuse(405, "method not allowed", Allow="POST")
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            log.warning("refused POST %s: body of %d bytes (at most %d)", request.path, length, MAX_BODY_BYTES)
            return _refuse(413, "request body too large")
        return _read_within(seconds)
