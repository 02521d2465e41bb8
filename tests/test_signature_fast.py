"""The signature computed on the request path equals the twilio library's, for any URL and form."""
from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings, strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.signature import expected_signature, hmac_sha1

TOKEN = "12345678901234567890123456789012"
names = st.text(min_size=1, max_size=10)
values = st.text(max_size=20)
urls = st.sampled_from(["https://hotline.example.org/voice", "https://h.example/voice/menu?p=&t=0&n=1",
                        "http://127.0.0.1:8000/voice/screen?i=0&parent=CA1&s=it&at=1&line=%2B4570112230"])


@settings(max_examples=400, deadline=None)
@given(urls, st.lists(st.tuples(names, values), max_size=12), st.text(min_size=1, max_size=40))
def test_same_signature_as_the_library_for_any_form_with_repeated_names(url, items, token):
    form = MultiDict(items)
    assert expected_signature(token, url, form) == RequestValidator(token).compute_signature(url, form)


@settings(max_examples=200, deadline=None)
@given(urls, st.dictionaries(names, values, max_size=12))
def test_same_signature_as_the_library_for_a_plain_dict(url, params):
    assert expected_signature(TOKEN, url, params) == RequestValidator(TOKEN).compute_signature(url, params)


def test_a_known_twilio_example():
    # Twilio's documented example: this URL and these parameters, signed with the token "12345".
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}
    assert expected_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@settings(max_examples=200, deadline=None)
@given(urls, st.lists(st.tuples(names, values), max_size=12), st.lists(st.tuples(names, values), max_size=4))
def test_same_signature_for_the_request_forms_types(url, items, more):
    from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict

    library = RequestValidator(TOKEN)
    form = ImmutableMultiDict(items)   # request.form
    assert expected_signature(TOKEN, url, form) == library.compute_signature(url, form)
    combined = CombinedMultiDict([form, MultiDict(more)])   # keeps no values of its own
    assert expected_signature(TOKEN, url, combined) == library.compute_signature(url, combined)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(names, values), max_size=12))
def test_a_hotline_request_is_signed_over_all_its_posted_values_without_its_form(items):
    from urllib.parse import urlencode

    from flask import Request
    from werkzeug.test import EnvironBuilder

    from ivr.signature import is_valid
    from ivr.webrequest import HotlineRequest

    url = "https://hotline.example.org/voice/menu?p=&t=0&n=1"
    def environ(**headers):
        return EnvironBuilder(method="POST", base_url="https://hotline.example.org", path="/voice/menu",
                              query_string="p=&t=0&n=1", data=urlencode(items).encode(), headers=headers,
                              content_type="application/x-www-form-urlencoded").get_environ()

    signed = RequestValidator(TOKEN).compute_signature(url, Request(environ()).form)
    ours = HotlineRequest(environ(**{"X-Twilio-Signature": signed}))
    ours.get_data(cache=True)   # as ivr.webhook_guard does first
    assert is_valid(ours, TOKEN, "https://hotline.example.org")
    assert "form" not in ours.__dict__   # checked from the plain field lists
    assert expected_signature(TOKEN, url, ours.field_lists) == signed


@settings(max_examples=2000, deadline=None)
@given(st.sampled_from(["https://hotline.example.org", "http://127.0.0.1:8000", "HTTPS://H.example:443", "",
                        " https://h.example", "h.example", "//h.example", "https://[::1]", "https://[::1"]),
       st.text(alphabet="/voice?#;:=&%+ \t\r\n[]@.aZ9\u00e6", max_size=24))
def test_the_signed_url_is_urlparses_put_together_again(base, rest):
    from urllib.parse import urlparse

    from ivr.signature import _as_parsed

    url = base + rest
    try:
        expected = urlparse(url).geturl()
    except ValueError:
        with pytest.raises(ValueError):
            _as_parsed(url)
        return
    assert _as_parsed(url) == _as_parsed(url) == expected   # again from what was kept


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=100), st.binary(max_size=3000))
def test_hmac_from_kept_pads_is_hmac(token, message):
    # keys shorter and longer than SHA-1's 64-byte block (hashed first), non-ASCII ones, and
    # messages up to past the size where hashlib would let go of the GIL
    assert hmac_sha1(token, message) == hmac.new(token.encode("utf-8"), message, hashlib.sha1).digest()
    assert hmac_sha1(token, message) == hmac_sha1(token, message)   # the kept states are never changed
