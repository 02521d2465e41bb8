"""How many SMS segments a text takes: GSM-7 (160 per message, 153 per part) when every character
is in the GSM 03.38 alphabet (ÆØÅæøåÄÖäöÉé are), else UCS-2 (70, 67 per part, in UTF-16 units)."""
from __future__ import annotations

from dataclasses import dataclass

_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
             "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    """A text's encoding ("GSM-7" or "UCS-2"), its length in that encoding's units, and its segments."""

    encoding: str
    units: int
    segments: int


def count(text: str) -> SegmentCount:
    """Return how `text` is encoded and into how many segments it is split."""
    if all(c in _BASIC or c in _EXTENDED for c in text):
        units = sum(2 if c in _EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    return SegmentCount(encoding, units, 1 if units <= single else -(-units // part))
