"""SMS sizes as the network counts them: GSM-7 septets (escapes count two) or UCS-2 code units."""
from __future__ import annotations

import pytest

from ivr.sms.segments import GSM7_BASIC, GSM7_EXTENSION, MAX_CHARS, measure


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("a" * 459, "GSM-7", 459, 3),
    ("a" * 460, "GSM-7", 460, 4),
    ("æøåÆØÅäöÄÖéÉüÜ" * 10, "GSM-7", 140, 1),        # Danish and Swedish letters are in GSM-7
    ("€" * 80, "GSM-7", 160, 1),                      # extension characters take two septets
    ("€" * 81, "GSM-7", 162, 2),
    ("a" * 152 + "€" + "a" * 8, "GSM-7", 162, 2),     # an escape pair is not split over two segments
    ("a" * 152 + "€" + "a" * 153, "GSM-7", 307, 3),
    ("[x]{y}\\|^~", "GSM-7", 18, 1),                # 8 extension characters and x, y
    ("–" + "a" * 69, "UCS-2", 70, 1),                 # an en dash is not GSM-7
    ("–" + "a" * 70, "UCS-2", 71, 2),
    ("–" + "a" * 133, "UCS-2", 134, 2),
    ("–" + "a" * 134, "UCS-2", 135, 3),
    ("😀" * 35, "UCS-2", 70, 1),                      # outside the BMP: two code units each
    ("a" * 66 + "😀" + "a" * 5, "UCS-2", 73, 2),      # a surrogate pair is not split either
    ("a" * 66 + "😀" + "a" * 66, "UCS-2", 134, 3),
    ("ç", "UCS-2", 1, 1),                             # only capital Ç is in the basic set
])
def test_measure(text, encoding, units, segments):
    size = measure(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_the_characters_that_force_ucs2_are_named_once_each_in_order():
    assert measure("Brøndby – nedbrud – “Nexus”").not_gsm == "–“”"
    assert measure("Brøndby Ældre og Omsorg").not_gsm == ""


def test_tables_have_the_sizes_of_gsm_03_38():
    assert len(GSM7_BASIC) == 127 and len(set(GSM7_BASIC)) == 127     # 128 minus the escape code
    assert set(GSM7_EXTENSION) == set("\f^{}\\[~]|€")
    assert not set(GSM7_BASIC) & set(GSM7_EXTENSION)
    assert MAX_CHARS == 1600
