"""ivr.webhook_guard on gunicorn's own input stream, in-process: the body a view sees, read in
one call (HotlineRequest.keep_body) or by werkzeug (any other request class), and the refusals.
The same refusals under a real gunicorn: tests/test_body_limits.py."""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlencode

import pytest
from flask import Flask, Request, request
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from ivr import webhook_guard
from ivr.webrequest import HotlineRequest

FIELDS = [("CallSid", "CA123"), ("From", "+4534412350"), ("To", "+4570112230"), ("Digits", "1"),
          ("Digits", "2"), ("Note", "æ ø + &")]
BODY = urlencode(FIELDS).encode()


def _app(request_class, seconds: float = 3.0) -> Flask:
    app = Flask(__name__)
    app.request_class = request_class
    webhook_guard.init_app(app, ("/voice",), body_seconds=seconds)

    @app.post("/voice")
    def echo():
        return {"body": request.get_data().decode(), "form": list(request.form.items(multi=True)),
                "again": request.stream.read().decode()}
    return app


def _post(app: Flask, body: bytes, length: int | None, send, join: bool = True, **headers):
    """POST to /voice with `body` arriving on a socket read through gunicorn's Body; `send(peer,
    body)` writes it. Returns (status, json or text)."""
    ours, peer = socket.socketpair()
    try:
        unreader = SocketUnreader(ours)
        reader = LengthReader(unreader, length) if length is not None else ChunkedReader(None, unreader)
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/voice", "QUERY_STRING": "", "SERVER_NAME": "h",
                   "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded", "wsgi.input": Body(reader),
                   "wsgi.input_terminated": True, "gunicorn.socket": ours, "wsgi.errors": None, **headers}
        if length is not None:
            environ["CONTENT_LENGTH"] = str(length)
        else:
            environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        sender = threading.Thread(target=send, args=(peer, body), daemon=True)
        sender.start()
        with app.request_context(environ):
            response = app.full_dispatch_request()
        if join:
            sender.join(10)
        return response.status_code, (response.get_json() if response.is_json else response.get_data(as_text=True))
    finally:
        ours.close()
        peer.close()


def _at_once(peer, body):
    peer.sendall(body)


def _then_close(peer, body):
    peer.sendall(body)
    peer.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("request_class", [HotlineRequest, Request])
def test_a_whole_body_reaches_the_view_as_sent(request_class):
    status, seen = _post(_app(request_class), BODY, len(BODY), _at_once)
    assert status == 200
    assert seen == {"body": BODY.decode(), "form": [list(f) for f in FIELDS], "again": ""}


def test_a_body_read_in_one_call_is_what_werkzeug_reads_also_when_it_ends_short():
    short = BODY[:40]
    ours = _post(_app(HotlineRequest), short, len(BODY), _then_close)
    theirs = _post(_app(Request), short, len(BODY), _then_close)
    assert ours == theirs and ours[0] == 200 and ours[1]["body"] == short.decode()


def test_a_body_that_stops_arriving_gets_408_while_the_client_still_holds_on():
    released, gave_up = threading.Event(), []

    def half_then_wait(peer, body):
        peer.sendall(body[:20])
        if not released.wait(30):
            gave_up.append(True)

    try:
        status, text = _post(_app(HotlineRequest, seconds=0.3), BODY, len(BODY), half_then_wait, join=False)
    finally:
        released.set()
    assert status == 408 and "too slow" in text
    assert not gave_up   # the watchdog ended the read, not the client


def test_a_chunked_body_still_goes_through_werkzeug_and_its_cap():
    def chunked(peer, body):
        peer.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    status, seen = _post(_app(HotlineRequest), BODY, None, chunked)
    assert status == 200 and seen["body"] == BODY.decode()
    big = b"a=" + b"x" * webhook_guard.MAX_BODY_BYTES
    status, text = _post(_app(HotlineRequest), big, None, chunked)
    assert status == 413


def test_a_declared_large_body_gets_413_before_a_byte_is_read():
    def nothing(peer, body):
        pass

    status, text = _post(_app(HotlineRequest), b"", webhook_guard.MAX_BODY_BYTES + 1, nothing)
    assert status == 413 and "too large" in text


@pytest.mark.parametrize("length, chunked", [("12", None), ("x", None), ("-5", None), ("12", "gzip, chunked"),
                                             (None, None), ("12", "identity")])
def test_the_length_the_guard_reads_is_werkzeugs_content_length(length, chunked):
    from werkzeug.sansio.utils import get_content_length
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(method="POST", path="/voice").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if chunked is not None:
        environ["HTTP_TRANSFER_ENCODING"] = chunked
    guards = get_content_length(environ.get("CONTENT_LENGTH"), environ.get("HTTP_TRANSFER_ENCODING"))
    assert guards == HotlineRequest(environ).content_length


class _Failing:
    def __init__(self, error: Exception):
        self.error = error

    def read(self, *args):
        raise self.error


@pytest.mark.parametrize("request_class", [HotlineRequest, Request])
@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), ValueError("I/O operation on closed file")])
def test_a_read_that_fails_gets_400(request_class, error):
    ours, peer = socket.socketpair()
    app = _app(request_class)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/voice", "QUERY_STRING": "", "SERVER_NAME": "h",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "40",
               "wsgi.input": _Failing(error), "wsgi.input_terminated": True, "gunicorn.socket": ours}
    try:
        with app.request_context(environ):
            response = app.full_dispatch_request()
    finally:
        ours.close()
        peer.close()
    assert response.status_code == 400 and "incomplete" in response.get_data(as_text=True)
