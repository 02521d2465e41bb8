"""Phone numbers as people type them -> E.164, with `phonenumbers`."""
from __future__ import annotations

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


def candidates(text: str, countries: tuple[str, ...] = ()) -> list[str]:
    """Return the E.164 readings of `text`: international form first, then as dialled in each country."""
    out: list[str] = []
    for country in (None, *countries):
        found = to_e164(text, country)
        if found is not None and found not in out:
            out.append(found)
    return out


def normalise(text: str, countries: tuple[str, ...] = ()) -> str:
    """Return the first E.164 reading of `text`, else `text` unchanged (to report what was typed)."""
    found = candidates(text, countries)
    return found[0] if found else text
