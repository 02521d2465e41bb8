"""The signature check accepts exactly what the twilio library's validate() accepts."""
from __future__ import annotations

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.signature import is_valid

TOKEN = "test-auth-token-0123456789abcdef"
PARAMS = [("CallSid", "CA" + "1" * 32), ("To", "+4570112230"), ("Digits", "1"), ("Digits", "2"),
          ("SpeechResult", "Æ & ø")]


def _sign(url: str, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, MultiDict(PARAMS))


BASES = ["https://hotline.example.org", "https://hotline.example.org:443", "http://127.0.0.1:8000",
         "HTTPS://Hotline.example.org", "http://127.0.0.1"]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("signed_for", ["same", "port", "no-port", "other-token", "garbage", "non-ascii"])
def test_accepts_exactly_what_the_library_accepts(base, signed_for):
    app = Flask("t")
    path = "/voice/menu?p=&t=0&n=1"
    url = base + path
    signature = {
        "same": _sign(url),
        "port": _sign(url.replace("example.org/", "example.org:443/").replace("127.0.0.1/", "127.0.0.1:80/")),
        "no-port": _sign(url.replace(":443", "").replace(":8000", "")),
        "other-token": _sign(url, "another-token-0123456789abcdef00"),
        "garbage": "not-a-signature",
        "non-ascii": "søren",
    }[signed_for]
    with app.test_request_context(path, method="POST", data=MultiDict(PARAMS), headers={"X-Twilio-Signature": signature}):
        from flask import request

        expected = RequestValidator(TOKEN).validate(url, request.form, signature)
        assert is_valid(request, TOKEN, base) is expected
        if signed_for == "same" and base.islower():  # the library lower-cases the scheme
            assert expected


def test_without_a_token_or_a_signature_nothing_is_valid():
    app = Flask("t")
    with app.test_request_context("/voice", method="POST", data=MultiDict(PARAMS), headers={"X-Twilio-Signature": "x"}):
        from flask import request

        assert not is_valid(request, None, BASES[0])
    with app.test_request_context("/voice", method="POST", data=MultiDict(PARAMS)):
        from flask import request

        assert not is_valid(request, TOKEN, BASES[0])
