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

from flask import Flask, Request, Response, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.sansio.utils import get_content_length

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


class _Cut:
    """The watchdog's action at a body's deadline: note it, and shut the socket's read side."""

    __slots__ = ("sock", "done")

    def __init__(self, sock: socket.socket):
        self.sock, self.done = sock, False

    def __call__(self) -> None:
        self.done = True
        _shut_reading(self.sock)


def _read_within(req: Request, length: int | None, seconds: float) -> Response | None:
    """Read the whole body of `req` (`length` bytes, None: chunked) into its cache within
    `seconds`; return a refusal or None.

    Only under gunicorn (its socket is in the environ): the process's watchdog (ivr.deadlines)
    shuts the socket's read side at the deadline (at most 0.1 s late), which ends a blocked read.
    A body of known length is read from gunicorn's input in one call and handed to the request
    (HotlineRequest.keep_body): werkzeug's stream wrappers around it would read it in 8 kB steps
    up to an extra empty read, to the same bytes.
    """
    environ = req.environ
    sock = environ.get("gunicorn.socket")
    if sock is None:
        return None
    cut = _Cut(sock)
    timer = deadlines.after(seconds, cut)
    keep_body = getattr(req, "keep_body", None)
    try:
        if length is not None and keep_body is not None:
            keep_body(environ["wsgi.input"].read(length))   # gunicorn's input ends at Content-Length
        else:
            body = req.get_data(cache=True)
            if length is None and len(body) >= MAX_BODY_BYTES:
                raise RequestEntityTooLarge()   # Flask's limit ends a chunked body at the cap without an error
    except RequestEntityTooLarge:
        log.warning("refused POST %s: chunked body over %d bytes", req.path, MAX_BODY_BYTES)
        return _refuse(413, "request body too large")
    except (ClientDisconnected, OSError, ValueError):   # werkzeug's stream turns the last two into the first
        if not cut.done:
            return _refuse(400, "incomplete request body")
    finally:
        timer.cancel()
    if cut.done:
        log.warning("refused POST %s: body not received within %.1f s", req.path, seconds)
        return _refuse(408, "request body too slow")
    return None


def init_app(app: Flask, prefixes: tuple[str, ...], body_seconds: float | None = None) -> None:
    """Guard requests under `prefixes` (register before the signature check: it reads the body)."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    seconds = body_seconds_from_env() if body_seconds is None else body_seconds

    @app.before_request
    def _guard_webhook():
        req = request._get_current_object()   # one context lookup instead of one per attribute
        if not req.path.startswith(prefixes):
            return None
        if req.method != "POST":
            log.info("refused %s %s: webhooks are POST only", req.method, req.path)
            return _refuse(405, "method not allowed", Allow="POST")
        environ = req.environ   # Request.content_length, without building the headers view
        length = get_content_length(environ.get("CONTENT_LENGTH"), environ.get("HTTP_TRANSFER_ENCODING"))
        if length is not None and length > MAX_BODY_BYTES:
            log.warning("refused POST %s: body of %d bytes (at most %d)", req.path, length, MAX_BODY_BYTES)
            return _refuse(413, "request body too large")
        return _read_within(req, length, seconds)
