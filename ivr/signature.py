"""X-Twilio-Signature check for every webhook under /voice (and any other prefix given).

Twilio signs the URL it requested. Behind a proxy the URL a request arrives on differs, so the
URL is rebuilt from PUBLIC_BASE_URL + path + query when that is set. An unsigned or wrongly
signed request gets 403. Turning the check off is only possible explicitly (development), and
the app says so loudly at start-up and on every request it lets through unchecked.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from functools import lru_cache
from urllib.parse import urlparse

from flask import Flask, Request, abort, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from ivr.webrequest import FieldLists, HotlineRequest

log = logging.getLogger(__name__)

BANNER = ("*** TWILIO SIGNATURE CHECK IS OFF (development mode): anyone can post to the voice "
          "webhooks. Never run like this on a public address. ***")


def signed_url(req: Request, public_base_url: str | None) -> str:
    """Return the URL Twilio signed: PUBLIC_BASE_URL + path + query, else the arrival URL."""
    query = req.environ.get("QUERY_STRING", "")  # req.query_string decoded back: the same str
    if public_base_url:
        return public_base_url.rstrip("/") + req.path + (f"?{query}" if query else "")
    return req.url


def is_valid(req: Request, auth_token: str | None, public_base_url: str | None) -> bool:
    """Return True when the request carries a valid X-Twilio-Signature (False without a token)."""
    signature = req.environ.get("HTTP_X_TWILIO_SIGNATURE", "")  # req.headers.get("X-Twilio-Signature", "")
    if not signature or not auth_token:
        return False
    if req.method != "POST":
        params = {}
    else:   # every name with all its values: repeated names are signed with each of them
        params = req.field_lists if isinstance(req, HotlineRequest) else req.form
    url = signed_url(req, public_base_url)
    # The library's validate() always computes two signatures (the URL with and without its port),
    # and its compute_signature() asks the form for each name's values in a way werkzeug's
    # MultiDict answers with a caught AttributeError. One of the two is the URL as it stands
    # (parsed and put together again, as the library does): try that one alone first, computed
    # here exactly as the library computes it (tests/test_signature_fast.py compares them), and
    # leave everything else (the other URL form, other algorithms) to validate().
    expected = expected_signature(auth_token, _as_parsed(url), params)
    if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return True
    # (the library asks a form for each name's values as werkzeug's MultiDict answers)
    return _validator(auth_token).validate(url, req.form if req.method == "POST" else params, signature)


# dicts that keep each name's list of values as the dict's value
_PLAIN_MULTIDICTS = (MultiDict, ImmutableMultiDict, FieldLists)


def expected_signature(auth_token: str, url: str, params) -> str:
    """Return Twilio's HMAC-SHA1 signature of `url` and `params` (a MultiDict, FieldLists, or a dict of str),
    as twilio's RequestValidator.compute_signature returns it."""
    if type(params) in _PLAIN_MULTIDICTS:
        pairs = dict.items(params)   # every name once with all its values, as lists() without copies
    else:
        lists = getattr(params, "lists", None)   # another MultiDict: every name once, with all its values
        pairs = lists() if lists is not None else ((name, (value,)) for name, value in params.items())
    parts = [url]
    for name, values in sorted(pairs):   # names are unique: only they are compared
        if len(values) == 1:
            parts.append(name + values[0])
        else:
            parts.extend(name + value for value in sorted(set(values)))
    return base64.b64encode(hmac_sha1(auth_token, "".join(parts).encode("utf-8"))).decode("ascii")


def hmac_sha1(auth_token: str, message: bytes) -> bytes:
    """Return HMAC-SHA1 of `message` under the UTF-8 of `auth_token`: hmac.new(...).digest(),
    from SHA-1 states that have taken the key's inner and outer pads (RFC 2104) once per token
    (hmac.new works them out on every call: half of its cost). Not hmac.digest: that one-shot call
    lets go of the GIL, and under load a thread waits for the next switch (up to 5 ms) to get it
    back; hashlib keeps it for messages under 2 KB, as webhooks' are."""
    inner, outer = _pads(auth_token)
    inner = inner.copy()
    inner.update(message)
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.digest()


_BLOCK = 64   # SHA-1's block size in bytes
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


@lru_cache(maxsize=4)
def _pads(auth_token: str) -> tuple:
    key = auth_token.encode("utf-8")
    if len(key) > _BLOCK:
        key = hashlib.sha1(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha1(key.translate(_IPAD)), hashlib.sha1(key.translate(_OPAD))


def _as_parsed(url: str) -> str:
    """Return `url` parsed and put together again (urlparse(url).geturl()), as the library signs it;
    raises ValueError as urlparse does.

    The query after the first "?" comes back as it is (or goes, when empty) unless it holds what
    urlparse removes or splits at (tab, CR, LF; "#" anywhere): only the part before it is parsed,
    once per distinct base and path, where the queries (call SIDs, moments) differ call by call.
    """
    before, mark, query = url.partition("?")
    if not mark or "#" in url or "\t" in query or "\r" in query or "\n" in query:
        return _parsed_whole(url)
    return _parsed_whole(before) + ("?" + query if query else "")


@lru_cache(maxsize=1024)
def _parsed_whole(url: str) -> str:
    return urlparse(url).geturl()


@lru_cache(maxsize=4)
def _validator(auth_token: str) -> RequestValidator:
    return RequestValidator(auth_token)


def init_app(app: Flask, auth_token: str | None, public_base_url: str | None, verify: bool,
             prefixes: tuple[str, ...] = ("/voice",)) -> None:
    """Check signatures of requests under `prefixes` before any view runs (403 when bad)."""
    if not verify:
        log.warning(BANNER)
        app.logger.warning(BANNER)
    elif not auth_token:
        log.error("TWILIO_AUTH_TOKEN is not set: every Twilio webhook will be refused with 403")
    elif not public_base_url:
        log.warning("PUBLIC_BASE_URL is not set: signatures are checked against the URL requests "
                    "arrive on, which fails behind a proxy or tunnel")

    @app.before_request
    def _check_signature():
        req = request._get_current_object()   # one context lookup instead of one per attribute
        if not req.path.startswith(prefixes):
            return None
        if not verify:
            log.warning("unsigned webhook accepted (signature check off): %s %s", req.method, req.path)
            return None
        if not is_valid(req, auth_token, public_base_url):
            log.warning("refused %s %s: missing or bad X-Twilio-Signature (checked against %s)",
                        req.method, req.path, signed_url(req, public_base_url))
            abort(403)
        return None
