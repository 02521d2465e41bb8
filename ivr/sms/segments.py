"""How many SMS segments a text takes, as the network counts them (GSM 03.38 / 3GPP TS 23.038).

A text of only GSM-7 characters is sent in septets: 160 in one message, 153 per segment once it is
concatenated, and the extension characters (€ [ ] { } \\ ^ ~ | and form feed) take two septets each.
Any other character makes the whole text UCS-2: 70 UTF-16 code units alone, 67 per segment (an emoji
takes two). An escape pair or a surrogate pair is never split over two segments. Pure: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_CHARS = 1600    # Twilio refuses a Body longer than this

# The GSM 03.38 default alphabet in code order, without 0x1B (the escape to the extension table).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ" "ÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"

_GSM7_SEPTETS = {**{c: 1 for c in GSM7_BASIC}, **{c: 2 for c in GSM7_EXTENSION}}
_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsSize:
    """`encoding` is "GSM-7" or "UCS-2"; `units` septets or UTF-16 code units; `not_gsm` the
    characters (once each, in order) that made the text UCS-2."""

    encoding: str
    units: int
    segments: int
    not_gsm: str = ""


def measure(text: str) -> SmsSize:
    """Return the encoding, size and segment count of `text` sent as one SMS."""
    not_gsm = "".join(dict.fromkeys(c for c in text if c not in _GSM7_SEPTETS))
    if not_gsm:
        encoding, sizes = "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]
    else:
        encoding, sizes = "GSM-7", [_GSM7_SEPTETS[c] for c in text]
    single, per_segment = _LIMITS[encoding]
    units = sum(sizes)
    if units <= single:
        return SmsSize(encoding, units, 1, not_gsm)
    segments, used = 1, 0
    for size in sizes:
        if used + size > per_segment:
            segments, used = segments + 1, 0
        used += size
    return SmsSize(encoding, units, segments, not_gsm)
