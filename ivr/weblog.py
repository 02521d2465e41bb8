"""One log line per webhook: call SID, line, endpoint, status and duration; caller numbers masked.

HOTLINE_LOG_FORMAT=json writes each line as one JSON object (else `key=value` text);
HOTLINE_LOG_FULL_NUMBERS=1 writes callers' numbers in full (else all but the last MASK_KEEP
digits are `*`). The hotline's own numbers (the line) are never masked. Each line is one write
to stderr (whatever sys.stderr is at the time: gunicorn's, or a test's capture), not a record of
the logging module: building a LogRecord and running handlers cost more than the rest of the
line, on every webhook.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from functools import lru_cache

from ivr.calls.event_json import ENCODER
from ivr.calls.forksafe import renew_after_fork
from ivr.webrequest import posted_fields

MASK_KEEP = 3


class _Stderr:
    """Writes whole lines to the current stderr under one lock (renewed in a forked child: one held
    by another thread at the fork would stay held there)."""

    def __init__(self):
        self._after_fork()
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self.lock = threading.Lock()

    def line(self, text: str) -> None:
        with self.lock:
            sys.stderr.write(text + "\n")


_stderr = _Stderr()


def mask(number: str | None, keep: int = MASK_KEEP) -> str | None:
    """Return `number` with every digit but the last `keep` replaced by `*` ("+*******350")."""
    if not number:
        return number
    if keep == MASK_KEEP and type(number) is str and len(number) <= MASKED_LENGTH:
        return _masked(number)   # the same few hundred callers' numbers, line after line
    return _mask(number, keep)


MASKED_KEPT = 4096  # masked numbers kept (a few hundred KB at most)
MASKED_LENGTH = 32  # longer text (never a phone number) is masked afresh each time


def _mask(number: str, keep: int = MASK_KEEP) -> str:
    digits = sum(c.isdigit() for c in number)
    out, seen = [], 0
    for c in number:
        if c.isdigit():
            seen += 1
            out.append(c if seen > digits - keep else "*")
        else:
            out.append(c)
    return "".join(out)


_masked = lru_cache(maxsize=MASKED_KEPT)(_mask)


def _write(text: str) -> None:
    """Write one line to the current stderr, whole (threads never interleave inside a line)."""
    _stderr.line(text)


class WebhookLog:
    """Writes the per-webhook line; `lines()` gives the hotline numbers that are never masked
    (a set, or any collection: it is only asked `in`)."""

    def __init__(self, json_format: bool = False, full_numbers: bool = False, lines=lambda: ()):
        self.json_format, self.full_numbers, self.lines = json_format, full_numbers, lines
        self.enabled = True  # False: no lines (e.g. `hotline call` playing a call in-process)

    @classmethod
    def from_env(cls, lines=lambda: ()) -> WebhookLog:
        """Return a WebhookLog set by HOTLINE_LOG_FORMAT and HOTLINE_LOG_FULL_NUMBERS."""
        return cls(os.environ.get("HOTLINE_LOG_FORMAT", "").lower() == "json",
                   os.environ.get("HOTLINE_LOG_FULL_NUMBERS", "") in ("1", "true", "yes"), lines)

    def fields(self, form, endpoint: str, status: int, seconds: float) -> dict:
        """Return the line's fields from the webhook's form (Twilio's parameters)."""
        get = form.get
        line, party, number = self._line_and_party(get)
        out = {"event": "webhook", "endpoint": endpoint, "status": status,
               "duration_ms": round(seconds * 1000, 1), "call_sid": get("CallSid") or None, "line": line}
        message_sid = get("MessageSid")
        if message_sid:
            out["message_sid"] = message_sid
        out[party] = number
        return out

    def text(self, form, endpoint: str, status: int, seconds: float) -> str:
        """Return the text line: `webhook` and `name=value` for each of `fields` but the event, in
        order, None as "-"; written out at once (a dict and a join per webhook cost as much)."""
        get = form.get
        line, party, number = self._line_and_party(get)
        message_sid = get("MessageSid")
        return (f"webhook endpoint={endpoint} status={status} duration_ms={round(seconds * 1000, 1)} "
                f"call_sid={get('CallSid') or '-'} line={'-' if line is None else line}"
                f"{f' message_sid={message_sid}' if message_sid else ''} {party}={'-' if number is None else number}")

    def _line_and_party(self, get) -> tuple[str | None, str, str | None]:
        """Return the webhook's hotline number (None when neither To nor From is ours) and the other
        party as ("caller" or "to", its number: masked unless it is ours or full numbers are asked)."""
        ours = self.lines()
        to, caller = get("To") or None, get("From") or None
        line = to if to in ours else caller if caller in ours else None
        if line != caller:
            return line, "caller", caller if self.full_numbers or caller in ours else mask(caller)
        return line, "to", to if self.full_numbers or to in ours else mask(to)

    def line(self, request, endpoint: str, status: int, seconds: float) -> None:
        """Log one webhook (never raises)."""
        if not self.enabled:
            return
        try:
            # a HotlineRequest's plain dict: a missing name is a dict miss, not a caught KeyError
            form = posted_fields(request)
            if self.json_format:
                _write(ENCODER.encode(self.fields(form, endpoint, status, seconds)))
            else:
                _write(self.text(form, endpoint, status, seconds))
        except Exception:  # noqa: BLE001 - a log line never breaks a call
            logging.getLogger(__name__).exception("could not write the webhook log line")
