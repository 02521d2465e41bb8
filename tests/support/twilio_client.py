"""A real ``twilio.rest.Client`` aimed at a FakeTwilio, for tests of the fake itself.

twilio 9.x builds absolute URLs on ``https://api.twilio.com`` (or an edge/region
variant) and hands them to its HTTP client, so a client subclass that swaps
scheme and host for the fake's base URL is enough. The app's own version of
this belongs in ivr/ (driven by TWILIO_API_BASE_URL); this one is test-only.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends every request for a ``*.twilio.com`` host to ``base_url`` instead."""

    def __init__(self, base_url: str, **kwargs):
        kwargs.setdefault("timeout", 10)
        super().__init__(**kwargs)
        base = urlsplit(base_url)
        self._scheme, self._netloc = base.scheme, base.netloc
        if self.session is not None:
            self.session.trust_env = False  # no HTTP(S)_PROXY detour for loopback

    def request(self, method, url, *args, **kwargs):
        """Rewrite ``url``'s scheme and host, then send it as TwilioHttpClient does."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


def client_for(fake, account_sid: str | None = None, auth_token: str | None = None) -> Client:
    """Return a twilio Client that talks to ``fake`` (with its credentials unless given)."""
    return Client(
        account_sid or fake.account_sid,
        auth_token or fake.auth_token,
        http_client=BaseUrlHttpClient(fake.base_url),
    )
