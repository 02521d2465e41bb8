"""The query strings of the webhook URLs written into TwiML, as urllib's urlencode writes them.

Two or three such URLs go into every answer, each with a handful of short parameters. urlencode
runs quote_plus (a str -> bytes -> str round trip through a quoter) for every name and every
value; here a value that quote_plus would give back unchanged (ASCII letters and digits, an int)
goes as it is, names and other short values are quoted once and then kept, and anything else
(bytes, other types) is handed to urlencode itself. The text is the same for any input
(tests/test_voice_query.py compares it with urlencode's).
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote_plus, urlencode

KEPT_LENGTH = 64   # values up to this long that need quoting are quoted once, then kept
QUOTED_KEPT = 4096


def query_text(params: dict) -> str:
    """Return urlencode({k: v for k, v in params.items() if v is not None}): the same text;
    raises what urlencode raises (e.g. UnicodeEncodeError for a lone surrogate)."""
    parts = []
    for name, value in params.items():
        if value is None:
            continue
        kind = type(value)
        if type(name) is not str:
            parts.append(urlencode(((name, value),)))
        elif kind is str:
            if value.isalnum() and value.isascii():   # what quote_plus leaves as it is, most values
                parts.append(_name(name) + value)
            else:
                parts.append(_name(name) + (_quoted(value) if len(value) <= KEPT_LENGTH else quote_plus(value)))
        elif kind is int:   # digits and maybe a minus sign: never quoted (not bool, not an IntEnum)
            parts.append(_name(name) + str(value))
        else:
            parts.append(urlencode(((name, value),)))
    return "&".join(parts)


@lru_cache(maxsize=256)
def _name(name: str) -> str:
    """Return `name` quoted as urlencode quotes it, with the "=" after it."""
    return quote_plus(name) + "="


_quoted = lru_cache(maxsize=QUOTED_KEPT)(quote_plus)
