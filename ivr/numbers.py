"""Phone numbers as people type them -> E.164, with `phonenumbers`."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers


def to_e164(text: str, country: str | None = None) -> str | None:
    """Return `text` as E.164 ("+4570112230"), parsed in `country` when it has no +; None if invalid."""
    raw = (text or "").strip()
    if not raw:
        return None
    if not raw.startswith("+") and country is None:
        raw = "+" + raw.lstrip("0") if raw.startswith("00") else "+" + raw
    try:
        parsed = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_valid_e164(text: str) -> bool:
    """Return True for a valid, dialable number written in E.164 (anonymous callers' stand-ins
    such as +266696687 and "anonymous" are not).

    Asked on every webhook with the caller's number (a hotline hears from a few hundred sites),
    so the answers for short strings are kept (VALID_KEPT of them, least recently used dropped).
    """
    if type(text) is str and len(text) <= CACHED_LENGTH:
        return _valid_e164_cached(text)
    return _valid_e164(text)


VALID_KEPT = 4096  # answers kept by is_valid_e164 (a few hundred KB at most)
CACHED_LENGTH = 32  # longer strings (never E.164: at most 16 characters) are not kept


def _valid_e164(text: str) -> bool:
    if not text.startswith("+"):
        return False
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and to_e164(text) == text


_valid_e164_cached = lru_cache(maxsize=VALID_KEPT)(_valid_e164)


def candidates(text: str, countries: tuple[str, ...] = ()) -> list[str]:
    """Return the E.164 readings of `text`: as written when it starts with + or 00, else as dialled
    in each of `countries` first and then as an international number without its +."""
    raw = (text or "").strip()
    international = raw.startswith(("+", "00"))
    order = (None,) if international else (*countries, None)
    out: list[str] = []
    for country in order:
        found = to_e164(raw, country)
        if found is not None and found not in out:
            out.append(found)
    return out


def normalise(text: str, countries: tuple[str, ...] = ()) -> str:
    """Return the first E.164 reading of `text`, else `text` unchanged (to report what was typed)."""
    found = candidates(text, countries)
    return found[0] if found else text
