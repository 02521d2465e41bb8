"""The app's request class: Flask's, with a url-encoded body already read parsed in one step.

Twilio posts every webhook as a small `application/x-www-form-urlencoded` body, which
ivr.webhook_guard reads (and caches) before anything else. Flask's form loading would then wrap
the cached bytes in a stream, build a form parser and read the stream again; this parses the
cached bytes directly, with the same function and options werkzeug uses, so `request.form` holds
the same fields in the same order. Any other body goes the usual way.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Request
from werkzeug import formparser  # noqa: F401 - registers the "werkzeug.url_quote" error handler

URLENCODED = "application/x-www-form-urlencoded"


class HotlineRequest(Request):
    """A Flask request whose url-encoded form comes straight from the cached body."""

    def _load_form_data(self) -> None:
        data = getattr(self, "_cached_data", None)
        if "form" in self.__dict__ or data is None or self.mimetype != URLENCODED:
            return super()._load_form_data()
        try:
            items = parse_qsl(data.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            items = []
        d = self.__dict__
        d["form"], d["files"] = self.parameter_storage_class(items), self.parameter_storage_class()
