"""The app's request class: Flask's, with a url-encoded body already read parsed in one step.

Twilio posts every webhook as a small `application/x-www-form-urlencoded` body, which
ivr.webhook_guard reads (and caches) before anything else. Flask's form loading would then wrap
the cached bytes in a stream, build a form parser and read the stream again; this parses the
cached bytes directly, the way werkzeug does (urllib's parse_qsl with blank values kept and
werkzeug's error handler), so `request.form` holds the same fields in the same order
(tests/test_webrequest.py compares them for any bytes). Its shortcuts: a field that is all
ASCII, as Twilio's always are, is unquoted in one step (urllib's unquote splits it into ASCII
and other runs first, and decodes the escapes of each ASCII run the same way), and short fields
with escapes (the callers' numbers) are unquoted once and then kept (4,096 at most). The content
type is compared as sent before werkzeug is asked to parse it. The views, the signature check
and the log line read plain dicts made in the same pass (`fields`, `field_lists`); the
MultiDict `form` is only built when asked for. Any other body goes the usual way.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from io import BytesIO
from urllib.parse import unquote, unquote_to_bytes

from flask import Request
from werkzeug import formparser  # noqa: F401 - registers the "werkzeug.url_quote" error handler

URLENCODED = "application/x-www-form-urlencoded"


class once_per_request:
    """Like werkzeug's cached_property, but a non-data descriptor: after the first read the value
    is a plain instance attribute (werkzeug's runs its __get__ on every read; the views read
    `fields` several times per webhook). Unlike functools.cached_property (Python 3.11), no lock
    is shared by all requests."""

    def __init__(self, compute):
        self.compute, self.name, self.__doc__ = compute, compute.__name__, compute.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.compute(obj)
        return value


class HotlineRequest(Request):
    """A Flask request whose url-encoded form comes straight from the cached body."""

    def keep_body(self, data: bytes) -> None:
        """Take `data`, read from the WSGI input by the caller, as the whole body: get_data()
        returns it and the form is parsed from it; the stream is then at its end, as after
        get_data() (it reads b"")."""
        self._cached_data = data
        self.__dict__["stream"] = BytesIO()

    @once_per_request
    def fields(self) -> dict[str, str]:
        """Return each posted field's first value, as `form.get` gives it, in a plain dict (in the
        order first posted): a missing field is a dict miss, where MultiDict.get raises and catches
        a KeyError. Made from the cached body without building `form` when it is url-encoded."""
        posted = self._posted()
        if posted is not None:
            return posted[0]
        return {name: values[0] for name, values in self.form.lists()}

    @once_per_request
    def field_lists(self) -> FieldLists:
        """Return every posted field name with all its values in the order posted (what
        `dict(form.lists())` gives), made without building `form` when the body is url-encoded."""
        posted = self._posted()
        if posted is not None:
            return posted[1]
        return FieldLists(self.form.lists())

    @once_per_request
    def query_fields(self) -> dict[str, str]:
        """Return each query argument's first value, as `args.get` gives it, in a plain dict, parsed
        as werkzeug parses `args` (raises UnicodeDecodeError as `args` does for a query string that
        is not UTF-8) without building the MultiDict."""
        if "args" in self.__dict__:
            return {name: values[0] for name, values in self.args.lists()}
        first: dict[str, str] = {}
        for name, value in parse_form(self.query_string.decode()):
            if name not in first:
                first[name] = value
        return first

    def _posted(self) -> tuple[dict[str, str], FieldLists] | None:
        """Return the first values and the lists of values of a cached url-encoded body's fields,
        made in one pass (once); None when the form goes werkzeug's way (no cached body, another
        content type, or `form` loaded that way already)."""
        d = self.__dict__
        posted = d.get("_posted_fields")
        if posted is not None:
            return posted
        data = getattr(self, "_cached_data", None)
        if "form" in d or data is None or (
                self.environ.get("CONTENT_TYPE") != URLENCODED and self.mimetype != URLENCODED):
            return None
        try:
            items = parse_form(data.decode())
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            items = []
        first: dict[str, str] = {}
        lists = FieldLists()
        for name, value in items:
            values = lists.get(name)
            if values is None:
                lists[name] = [value]
                first[name] = value
            else:
                values.append(value)
        d["_posted_fields"] = posted = (first, lists)
        return posted

    def _load_form_data(self) -> None:
        posted = None if "form" in self.__dict__ else self._posted()
        if posted is None:
            return super()._load_form_data()
        d = self.__dict__   # MultiDict keeps a dict of lists: the same names, values and order
        d["form"], d["files"] = self.parameter_storage_class(posted[1]), self.parameter_storage_class()


def posted_fields(req: Request) -> Mapping[str, str]:
    """Return the request's posted fields by name (first values): a HotlineRequest's plain
    `fields`, else werkzeug's `form` (whose get() gives the same)."""
    return req.fields if isinstance(req, HotlineRequest) else req.form


def query_args(req: Request) -> Mapping[str, str]:
    """Return the request's query arguments by name (first values): a HotlineRequest's plain
    `query_fields`, else werkzeug's `args`."""
    return req.query_fields if isinstance(req, HotlineRequest) else req.args


class FieldLists(dict):
    """Posted field names, each with the list of its values in the order posted."""


def parse_form(text: str) -> list[tuple[str, str]]:
    """Return the (name, value) fields of a url-encoded form, as
    parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote") returns them."""
    fields = []
    for field in text.replace("+", " ").split("&"):   # "+" is a space in names and values alike
        if field:
            name, _, value = field.partition("=")
            fields.append((_unquote(name) if "%" in name else name, _unquote(value) if "%" in value else value))
    return fields


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    if len(text) <= KEPT_LENGTH:
        return _unquote_kept(text)   # the same numbers and statuses, webhook after webhook
    return _unquote_escapes(text)


KEPT_LENGTH = 64  # fields up to this long with escapes are unquoted once, then kept
UNQUOTED_KEPT = 4096


def _unquote_escapes(text: str) -> str:
    if text.isascii():
        return unquote_to_bytes(text).decode("utf-8", "werkzeug.url_quote")
    return unquote(text, errors="werkzeug.url_quote")


_unquote_kept = lru_cache(maxsize=UNQUOTED_KEPT)(_unquote_escapes)
