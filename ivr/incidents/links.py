"""Signed, expiring links to an incident's voicemail: `/r/<token>` on our own app.

A Twilio recording URL asks for the account's credentials; the person paged cannot open it. The
token names the hotline, the incident and an expiry, signed with HMAC-SHA256 by a secret from
HOTLINE_LINK_SECRET (else TWILIO_AUTH_TOKEN), so nothing is stored for it and nobody can guess
another incident's link. The app checks it and streams the recording from Twilio.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

DEFAULT_DAYS = 7


def secret_from_env() -> str:
    """Return the signing secret ('' when neither HOTLINE_LINK_SECRET nor TWILIO_AUTH_TOKEN is set)."""
    return os.environ.get("HOTLINE_LINK_SECRET") or os.environ.get("TWILIO_AUTH_TOKEN") or ""


def _sig(secret: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _b36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out


def make(line: str, number: int, secret: str, expires: float) -> str:
    """Return the token for incident `number` of `line` valid until epoch `expires`."""
    payload = f"{line.lstrip('+')}-{number}-{_b36(int(expires))}"
    return f"{payload}-{_sig(secret, payload)}"


def read(token: str, secret: str, now: float | None = None) -> tuple[str, int] | None:
    """Return (line, number) of a valid, unexpired token; None for anything else."""
    parts = token.split("-", 3)  # the signature (base64url) may itself hold "-"
    if not secret or len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit() or len(token) > 80:
        return None
    payload = "-".join(parts[:3])
    if not hmac.compare_digest(_sig(secret, payload), parts[3]):
        return None
    try:
        expires = int(parts[2], 36)
    except ValueError:
        return None
    if expires < (time.time() if now is None else now):
        return None
    return "+" + parts[0], int(parts[1])


def url(base_url: str, line: str, number: int, secret: str, now: float, days: float = DEFAULT_DAYS) -> str | None:
    """Return the link to open incident `number`'s voicemail, or None without a base URL or secret."""
    if not base_url or not secret:
        return None
    return f"{base_url.rstrip('/')}/r/{make(line, number, secret, now + days * 86400)}"
