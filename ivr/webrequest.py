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
type is compared as sent before werkzeug is asked to parse it.
Any other body goes the usual way.
"""
from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from urllib.parse import unquote, unquote_to_bytes

from flask import Request
from werkzeug.utils import cached_property
from werkzeug import formparser  # noqa: F401 - registers the "werkzeug.url_quote" error handler

URLENCODED = "application/x-www-form-urlencoded"


class HotlineRequest(Request):
    """A Flask request whose url-encoded form comes straight from the cached body."""

    def keep_body(self, data: bytes) -> None:
        """Take `data`, read from the WSGI input by the caller, as the whole body: get_data()
        returns it and the form is parsed from it; the stream is then at its end, as after
        get_data() (it reads b"")."""
        self._cached_data = data
        self.__dict__["stream"] = BytesIO()

    @cached_property
    def fields(self) -> dict[str, str]:
        """Return each posted field's first value, as `form.get` gives it, in a plain dict: a
        missing field is a dict miss, where MultiDict.get raises and catches a KeyError."""
        return {name: values[0] for name, values in self.form.lists()}

    def _load_form_data(self) -> None:
        data = getattr(self, "_cached_data", None)
        if "form" in self.__dict__ or data is None or (
                self.environ.get("CONTENT_TYPE") != URLENCODED and self.mimetype != URLENCODED):
            return super()._load_form_data()
        try:
            items = parse_form(data.decode())
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            items = []
        d = self.__dict__
        d["form"], d["files"] = self.parameter_storage_class(items), self.parameter_storage_class()


def parse_form(text: str) -> list[tuple[str, str]]:
    """Return the (name, value) fields of a url-encoded form, as
    parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote") returns them."""
    fields = []
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            fields.append((_unquote(name.replace("+", " ")), _unquote(value.replace("+", " "))))
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
