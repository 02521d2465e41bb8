"""The Twilio REST client the app uses, and one classified send.

Settings come from the environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
TWILIO_API_BASE_URL (another API host, e.g. a local fake in tests or a proxy).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance  # noqa: F401 - import once, before RQ forks

log = logging.getLogger(__name__)

# Twilio errors that will not get better by retrying the same message.
PERMANENT_CODES = {21211, 21408, 21610, 21612, 21614, 21606, 21608, 21265, 30004, 30005, 30006}


class TwilioConfigError(RuntimeError):
    """Raised when TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is missing."""


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends every request for a ``*.twilio.com`` host to ``base_url`` (scheme and host swapped)."""

    def __init__(self, base_url: str | None = None, timeout: float = 10.0, **kwargs):
        super().__init__(timeout=timeout, **kwargs)
        self._base = urlsplit(base_url) if base_url else None
        if self._base is not None and self._base.hostname in ("127.0.0.1", "localhost", "::1"):
            self.session.trust_env = False  # no HTTP(S)_PROXY detour for loopback

    before_create = None  # callable run right before a message create leaves (the rate gate)

    def request(self, method, url, *args, **kwargs):
        """Rewrite ``url`` to the configured host, wait at the gate for creates, then send it."""
        if self.before_create is not None and method.upper() == "POST" and url.endswith("/Messages.json"):
            self.before_create()
        parts = urlsplit(url)
        host = parts.hostname or ""
        if self._base is not None and (host == "twilio.com" or host.endswith(".twilio.com")):
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def client_from_env(timeout: float | None = None) -> Client:
    """Return a twilio Client built from the environment; raises TwilioConfigError without credentials."""
    sid, token = os.environ.get("TWILIO_ACCOUNT_SID"), os.environ.get("TWILIO_AUTH_TOKEN")
    if not sid or not token:
        raise TwilioConfigError("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    timeout = timeout or float(os.environ.get("HOTLINE_TWILIO_TIMEOUT", "10"))
    http = BaseUrlHttpClient(os.environ.get("TWILIO_API_BASE_URL") or None, timeout=timeout)
    client = Client(sid, token, http_client=http)
    client.api.v2010.account.messages  # noqa: B018 - import the lazy modules now, not at the first send
    return client


class Outcome(str, Enum):
    """What became of one create request."""

    ACCEPTED = "accepted"      # Twilio created the message: sid is set
    RETRY = "retry"            # certainly not created (429/20429, 401): retry later
    IN_DOUBT = "in_doubt"      # maybe created (5xx, timeout, connection cut): look before retrying
    PERMANENT = "permanent"    # will never work (invalid number, unsubscribed, ...): record it


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    sid: str | None = None
    status: str | None = None
    code: int | None = None
    message: str = ""
    answered: bool = True  # False: no answer came (timeout, connection cut): Twilio may act later


def send_sms(client: Client, to: str, body: str, sender_from: str | None,
             messaging_service_sid: str | None, status_callback: str | None, gate=None) -> SendResult:
    """Create one message and classify the answer; never raises for Twilio or network errors.

    `gate` (e.g. the rate limiter's acquire) is called as late as possible: right before the
    request leaves, after the client has built it, so slots are not eaten by local work.
    """
    params: dict = {"to": to, "body": body}
    if messaging_service_sid:
        params["messaging_service_sid"] = messaging_service_sid
    else:
        params["from_"] = sender_from
    if status_callback:
        params["status_callback"] = status_callback
    http = client.http_client
    gated = isinstance(http, BaseUrlHttpClient) and gate is not None
    if gate is not None and not gated:
        gate()
    if gated:
        http.before_create = gate
    try:
        msg = client.messages.create(**params)
    except TwilioRestException as exc:
        return classify(exc.status, exc.code, exc.msg)
    except (requests.ConnectionError, requests.Timeout) as exc:
        return SendResult(Outcome.IN_DOUBT, message=type(exc).__name__, answered=False)
    finally:
        if gated:
            http.before_create = None
    return SendResult(Outcome.ACCEPTED, sid=msg.sid, status=msg.status)


def classify(status: int, code: int | None, message: str = "") -> SendResult:
    """Return how to treat an HTTP error `status` with Twilio error `code`."""
    if status == 429 or code == 20429 or status in (401, 403):
        return SendResult(Outcome.RETRY, code=code, message=str(message))
    if status >= 500:
        return SendResult(Outcome.IN_DOUBT, code=code, message=str(message))
    if code in PERMANENT_CODES or 400 <= status < 500:
        return SendResult(Outcome.PERMANENT, code=code, message=str(message))
    return SendResult(Outcome.IN_DOUBT, code=code, message=str(message))


def find_sent(client: Client, to: str, body: str, not_before_epoch: float,
              taken=lambda sid: False) -> str | None:
    """Return the SID of a message to `to` with exactly `body` created at or after
    `not_before_epoch` (and not `taken` by another recipient), or None when there is none.

    Raises TwilioRestException / requests errors when Twilio cannot be asked: the caller must
    then keep the recipient in doubt rather than send again.
    """
    for msg in client.messages.list(to=to, limit=50, page_size=50):
        created = msg.date_created.timestamp() if msg.date_created else None
        if msg.body == body and not taken(msg.sid) and (created is None or created >= not_before_epoch):
            return msg.sid
    return None
