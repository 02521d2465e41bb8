"""The app's request class parses a cached url-encoded body exactly as werkzeug's form parser does."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Request
from hypothesis import given, settings, strategies as st
from werkzeug.test import EnvironBuilder

from ivr.webrequest import HotlineRequest


def _both(body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    """Return (ours, werkzeug's) form of a request with `body`, ours after the body was read and cached."""
    def make(cls):
        env = EnvironBuilder(method="POST", path="/voice", data=body, content_type=content_type).get_environ()
        return cls(env)

    ours, theirs = make(HotlineRequest), make(Request)
    ours.get_data(cache=True)  # as ivr.webhook_guard does first
    return ours, theirs


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=12))
def test_fields_and_their_order_match_werkzeug(fields):
    ours, theirs = _both(urlencode(fields).encode())
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert not ours.files and not theirs.files


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["From", "To", "Digits", "x", ""]), st.text(max_size=8)), max_size=8),
       st.sampled_from(["From", "To", "Digits", "x", "", "Missing"]))
def test_fields_gives_what_form_get_gives(fields, name):
    ours, theirs = _both(urlencode(fields).encode())
    assert ours.fields.get(name) == theirs.form.get(name) and len(ours.fields) == len(theirs.form)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_werkzeugs_answer(body):
    ours, theirs = _both(body)
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab=&+%25zZ\u00e6\u20ac \x00"), max_size=40))
def test_the_parser_answers_as_parse_qsl_for_any_text(text):
    from urllib.parse import parse_qsl

    from ivr.webrequest import parse_form

    assert parse_form(text) == parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


def test_the_edges_by_hand():
    for body in (b"", b"a", b"a=", b"=b", b"a=1&a=2&b", b"x=%zz&y=%C3%A6+%2B", b"Digits=%FF", b"&&a=1&&",
                 b"%e2%82%ac=%E2%82&b=%C3%A6%", b"a=\xc3\xa6%2B&\xc3\xa6%C3%A6=1",
                 b"From=%2B4512345678&To=%2B4570112230&CallSid=CA123"):
        ours, theirs = _both(body)
        assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True)), body


def test_a_body_not_read_before_or_of_another_type_goes_the_usual_way():
    env = EnvironBuilder(method="POST", path="/admin/login", data={"user": "a", "pw": "b"}).get_environ()
    assert HotlineRequest(env).form.to_dict() == {"user": "a", "pw": "b"}   # not cached first
    ours, theirs = _both(b"--x\r\n", "multipart/form-data; boundary=x")
    assert ours.form.to_dict() == theirs.form.to_dict()


def test_a_body_handed_over_reads_as_one_read_by_werkzeug():
    body = b"From=%2B4534412350&To=%2B4570112230&Digits=1&Digits=2"
    env = EnvironBuilder(method="POST", path="/voice", data=body,
                         content_type="application/x-www-form-urlencoded").get_environ()
    ours = HotlineRequest(env)
    ours.keep_body(env["wsgi.input"].read(len(body)))
    _, theirs = _both(body)
    assert ours.get_data() == body
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert ours.stream.read() == b""   # at its end, as after get_data()


def test_kept_unquoted_fields_equal_fresh_ones_and_werkzeugs_twice_over():
    from ivr import webrequest

    webrequest._unquote_kept.cache_clear()
    body = b"From=%2B4534412350&Note=%C3%A6%FF&Odd=%zz%2&Long=" + b"%41" * 40
    for _ in range(2):   # the second time from what was kept
        ours, theirs = _both(body)
        assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert webrequest._unquote_kept.cache_info().hits == 3   # the long field is unquoted afresh


def test_a_content_type_with_parameters_is_still_read_as_a_form():
    body = b"From=%2B4534412350&Digits=1"
    ours, theirs = _both(body, "application/x-www-form-urlencoded; charset=UTF-8")
    assert ours.form.to_dict() == theirs.form.to_dict() == {"From": "+4534412350", "Digits": "1"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_field_lists_and_fields_give_werkzeugs_values_without_building_the_form(body):
    ours, theirs = _both(body)
    assert ours.field_lists == dict(theirs.form.lists())
    assert ours.fields == {name: values[0] for name, values in theirs.form.lists()}
    assert list(ours.fields) == list(theirs.form)   # in the order first posted
    assert "form" not in ours.__dict__
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))   # still there when asked


def test_field_lists_of_a_form_gone_werkzeugs_way_come_from_the_form():
    ours, theirs = _both(b"--x\r\n", "multipart/form-data; boundary=x")
    assert ours.field_lists == dict(theirs.form.lists()) and ours.fields == {}
    env = EnvironBuilder(method="POST", path="/admin/login", data={"user": "a", "pw": "b"}).get_environ()
    req = HotlineRequest(env)   # a body not cached first
    assert req.field_lists == {"user": ["a"], "pw": ["b"]} and req.fields == {"user": "a", "pw": "b"}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=st.sampled_from("ab=&+%25zZ\u00e6 ;"), max_size=30),
                 st.lists(st.tuples(st.sampled_from(["line", "s", "i", "x", ""]), st.text(max_size=8)),
                          max_size=6).map(urlencode)))
def test_query_fields_give_what_args_get_gives(query):
    from urllib.parse import quote

    env = EnvironBuilder(method="POST", path="/voice/screen").get_environ()
    env["QUERY_STRING"] = quote(query, safe="=&+%;").encode().decode("latin1")   # as a WSGI server passes it
    ours, theirs = HotlineRequest(dict(env)), Request(dict(env))
    assert ours.query_fields == {name: values[0] for name, values in theirs.args.lists()}
    assert "args" not in ours.__dict__


def test_query_fields_refuse_a_query_that_is_not_utf8_as_args_does():
    import pytest

    env = EnvironBuilder(method="POST", path="/voice/screen").get_environ()
    env["QUERY_STRING"] = "line=\xff"
    with pytest.raises(UnicodeDecodeError):
        Request(dict(env)).args
    with pytest.raises(UnicodeDecodeError):
        HotlineRequest(dict(env)).query_fields


def test_the_plain_fields_are_made_once_per_request_then_kept_on_it():
    ours, _ = _both(b"From=%2B4534412350&Digits=1&Digits=2")
    fields, lists = ours.fields, ours.field_lists
    assert ours.fields is fields and ours.field_lists is lists and vars(ours)["fields"] is fields
    assert fields == {"From": "+4534412350", "Digits": "1"} and lists == {"From": ["+4534412350"], "Digits": ["1", "2"]}
    other, _ = _both(b"Digits=3")
    assert other.fields == {"Digits": "3"} and ours.fields is fields   # each request its own
