"""A local HTTP server speaking enough of Twilio's REST API 2010-04-01 for the hotline.

Serves create/fetch for Messages (and their list) and create/fetch for Calls, checks HTTP Basic
auth, and checks every request against Twilio's OpenAPI description (see ``twilio_spec``).
Requests that break the spec are answered with a Twilio-style error and kept in ``violations``;
tests end with ``assert_no_violations()``. It sends no status callbacks: a message stays
``queued`` unless a test calls ``set_status``. A created call whose request has a ``Url`` is
played against that URL as Twilio would (signed webhooks, SendDigits into each <Gather>, see
``call_driver``), then ``completed``; ``drive_calls = False`` leaves calls ``queued``.

The test suite uses it in a thread (tests/support); ``hotline fake-twilio`` runs it as a
command. Point the app at it with ``TWILIO_API_BASE_URL=server.base_url``. Never imported by
the web app or the worker.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from ivr.devtools.call_driver import CallDriver, DrivenCall
from ivr.devtools.twilio_resources import API, call_resource, error_body, message_resource
from ivr.devtools.twilio_spec import Match, Problem, SpecValidator, load_validator

TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "fake-twilio-auth-token"
TEST_MESSAGING_SERVICE_SID = "MG" + "fedcba9876543210" * 2
SERVED = ("CreateMessage", "FetchMessage", "ListMessage", "CreateCall", "FetchCall")
KNOWN_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
}


@dataclass
class Fault:
    """An error reply to give instead of success; ``operation`` None means any create."""

    status: int
    code: int
    message: str
    retry_after: int | None = None
    operation: str | None = None


@dataclass
class Violation:
    """A request that broke Twilio's spec, with every problem found."""

    method: str
    path: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.method} {self.path}: " + "; ".join(self.problems)


class FakeTwilio:
    """The fake API. Lists are appended under a lock and safe to read from tests.

    - ``messages`` / ``calls``: accepted creates as dicts (``received_at`` is
      ``time.monotonic()``), in arrival order.
    - ``requests``: every request with its reply status.
    - ``violations``: requests that broke the spec.
    """

    def __init__(
        self,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        validator: SpecValidator | None = None,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.validator = validator or load_validator()
        self.delay = 0.0
        self.reply_delay = 0.0  # seconds between recording a create and answering it (crash-window tests)
        self.messages: list[dict] = []
        self.calls: list[dict] = []
        self.requests: list[dict] = []
        self.violations: list[Violation] = []
        self._resources: dict[str, dict] = {}
        self.drive_calls = True
        self.driven: dict[str, DrivenCall] = {}  # CallSid -> what the driver did, once the call ended
        self._faults: deque[Fault] = deque()
        self._permanent: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Called (from the request's thread) with (operation_id, record) for each accepted create,
        # and with each Violation as it is found; e.g. `hotline fake-twilio` prints them.
        self.on_create: Callable[[str, dict], None] | None = None
        self.on_violation: Callable[[Violation], None] | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "FakeTwilio":
        """Listen on `host`:`port` (0: a free port) in a daemon thread; returns self.

        Raises OSError when the address cannot be bound (e.g. the port is taken).
        """
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = ThreadingHTTPServer((host, port), _Handler)
        httpd.daemon_threads = True
        httpd.fake = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; requests sleeping in ``delay`` end early."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join(5)
        self._httpd = self._thread = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The listening port; raises RuntimeError when not started."""
        if self._httpd is None:
            raise RuntimeError("FakeTwilio is not running")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash; 127.0.0.1 when bound to every address),
        the TWILIO_API_BASE_URL."""
        host = self._httpd.server_address[0] if self._httpd is not None else ""
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    # -- fault injection and control -------------------------------------------

    def fail_next(self, n: int = 1, status: int = 429, code: int = 20429,
                  message: str | None = None, retry_after: int | None = None,
                  operation: str | None = None) -> None:
        """Answer the next ``n`` valid creates (or only ``operation``, e.g.
        "CreateMessage") with this error; queued after earlier faults."""
        fault = Fault(status, code, message or KNOWN_MESSAGES.get(code, f"Error {code}"), retry_after, operation)
        with self._lock:
            self._faults.extend([fault] * n)

    def fail_for(self, to_number: str, status: int = 400, code: int = 21211,
                 message: str | None = None) -> None:
        """Answer every create to ``to_number`` with this error (e.g. 21211, 21610)."""
        with self._lock:
            self._permanent[to_number] = Fault(status, code, message or KNOWN_MESSAGES.get(code, f"Error {code}"))

    def clear_faults(self) -> None:
        """Forget queued and per-number faults."""
        with self._lock:
            self._faults.clear()
            self._permanent.clear()

    def set_status(self, sid: str, status: str) -> None:
        """Change the status a later fetch of message/call ``sid`` returns; KeyError if unknown."""
        with self._lock:
            self._resources[sid]["status"] = status

    def _update_call(self, sid: str, **fields) -> None:
        with self._lock:
            self._resources[sid].update(fields)

    def _drive(self, resource: dict, params: dict) -> None:
        driver = CallDriver(self.account_sid, self.auth_token, self._update_call)
        call = driver.drive(resource, params)
        with self._changed:
            self.driven[call.sid] = call
            self._changed.notify_all()

    def wait_for_call(self, sid: str, timeout: float = 30.0) -> DrivenCall:
        """Return what the driver did on call ``sid`` once it ended; AssertionError on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: sid in self.driven, timeout):
                raise AssertionError(f"call {sid} did not end within {timeout} s")
            return self.driven[sid]

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Return a copy of ``messages`` once it holds ``count``; AssertionError on timeout."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} messages within {timeout} s, got {len(self.messages)}")
            return list(self.messages)

    def assert_no_violations(self) -> None:
        """Raise AssertionError listing every request that broke the spec."""
        with self._lock:
            violations = list(self.violations)
        if violations:
            listed = "\n".join(f"  - {v}" for v in violations)
            raise AssertionError(f"{len(violations)} request(s) to fake Twilio broke the spec:\n{listed}")

    # -- request handling -------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, dict, dict]:
        """Answer one request. Returns (status, JSON document, extra headers)."""
        received_at = time.monotonic()
        if self.delay:
            self._stopping.wait(self.delay)
        url = urlsplit(raw_path)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) if body else {}
        match, problems = self.validator.validate(method, path, query, form, headers.get("Content-Type"))
        if match is not None and match.operation_id not in SERVED and not problems:
            problems = [_unimplemented(match)]
        if problems:
            self._violated(Violation(method, raw_path, [p.message for p in problems]))
        status, document, extra = self._answer(match, problems, headers, form, query)
        with self._changed:
            self.requests.append({
                "method": method, "path": path, "operation_id": match.operation_id if match else None,
                "params": _flatten(form), "query": _flatten(query), "status": status, "received_at": received_at,
            })
            record = None
            if status == 201 and match is not None:
                record = self._record(match.operation_id, form, document, received_at)
                (self.messages if match.operation_id == "CreateMessage" else self.calls).append(record)
            self._changed.notify_all()
        if record is not None and self.on_create is not None:
            self.on_create(match.operation_id, record)
        if record is not None and match.operation_id == "CreateCall" and record["url"] and self.drive_calls:
            threading.Thread(target=self._drive, args=(dict(document), record["params"]),
                             name=f"fake-call-{record['sid']}", daemon=True).start()
        if status == 201 and self.reply_delay:
            self._stopping.wait(self.reply_delay)
        return status, document, extra

    def _violated(self, violation: Violation) -> None:
        with self._lock:
            self.violations.append(violation)
        if self.on_violation is not None:
            self.on_violation(violation)

    def _answer(self, match: Match | None, problems, headers, form, query=None) -> tuple[int, dict, dict]:
        if not self._authorized(headers.get("Authorization"), match):
            return 401, error_body(401, 20003, "Authenticate"), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
        if problems:
            first = problems[0]
            return first.status, error_body(first.status, first.code, "; ".join(p.message for p in problems)), {}
        assert match is not None
        if match.operation_id in ("FetchMessage", "FetchCall"):
            with self._lock:
                resource = self._resources.get(match.path_params["Sid"])
            if resource is None or resource["account_sid"] != match.path_params["AccountSid"]:
                return 404, error_body(404, 20404, f"The requested resource {match.template} was not found"), {}
            return 200, dict(resource), {}
        if match.operation_id == "ListMessage":
            return 200, self._list_messages(match, query), {}
        fault = self._take_fault(match.operation_id, form.get("To", [""])[0])
        if fault is not None:
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return fault.status, error_body(fault.status, fault.code, fault.message), extra
        builder = message_resource if match.operation_id == "CreateMessage" else call_resource
        resource = builder(self.account_sid, form)
        with self._lock:
            self._resources[resource["sid"]] = resource
        return 201, dict(resource), {}

    def _list_messages(self, match: Match, query: dict[str, list[str]]) -> dict:
        """Return one page (newest first) of the account's messages, filtered by To and From."""
        first = lambda name: (query.get(name) or [None])[0]  # noqa: E731
        size = int(first("PageSize") or 50)
        with self._lock:
            found = [dict(r) for r in reversed(self._resources.values())
                     if r["sid"].startswith("SM") and r["account_sid"] == match.path_params["AccountSid"]
                     and first("To") in (None, r["to"]) and first("From") in (None, r["from"])]
        uri = f"{API}/Accounts/{match.path_params['AccountSid']}/Messages.json?PageSize={size}&Page=0"
        return {"messages": found[:size], "end": max(0, min(size, len(found)) - 1), "first_page_uri": uri,
                "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None,
                "start": 0, "uri": uri}

    def _authorized(self, header: str | None, match: Match | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        path_account = match.path_params.get("AccountSid", user) if match else user
        return (secrets.compare_digest(user, self.account_sid)
                and secrets.compare_digest(password, self.auth_token)
                and path_account == user)

    def _take_fault(self, operation_id: str, to: str) -> Fault | None:
        with self._lock:
            if to in self._permanent:
                return self._permanent[to]
            for fault in self._faults:
                if fault.operation in (None, operation_id):
                    self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _record(operation_id: str, form: dict[str, list[str]], resource: dict, received_at: float) -> dict:
        first = lambda name: form.get(name, [None])[0]  # noqa: E731
        record = {
            "sid": resource["sid"], "to": first("To"), "from": first("From"),
            "status_callback": first("StatusCallback"), "received_at": received_at,
            "params": _flatten(form),
        }
        if operation_id == "CreateMessage":
            record.update(body=first("Body"), messaging_service_sid=first("MessagingServiceSid"),
                          media_url=form.get("MediaUrl", []))
        else:
            record.update(url=first("Url"), twiml=first("Twiml"))
        return record


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the server's FakeTwilio and writes JSON back."""

    protocol_version = "HTTP/1.0"  # one request per connection: stop() never waits on idle clients
    timeout = 30
    server_version = "FakeTwilio/1.0"

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the sender went away mid-request (e.g. a killed worker): like any
            self.close_connection = True  # HTTP server, and Twilio, never act on half a request
            return
        fake: FakeTwilio = self.server.fake  # type: ignore[attr-defined]
        try:
            status, document, extra = fake.handle(self.command, self.path, self.headers, body)
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            fake._violated(Violation(self.command, self.path, [f"fake Twilio crashed: {exc!r}"]))
            status, document, extra = 500, error_body(500, 20500, f"fake Twilio crashed: {exc!r}"), {}
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet test output
        pass


def _unimplemented(match: Match) -> Problem:
    what = f"{match.operation_id} ({match.method} {match.template})"
    return Problem(f"{what} is valid but the fake does not serve it", 501, 20501)


def _flatten(form: dict[str, list[str]]) -> dict:
    return {name: values[0] if len(values) == 1 else values for name, values in form.items()}
