"""SMS segment counts shown before an outage text is sent."""
from ivr.sms.segments import count


def test_danish_and_swedish_letters_stay_in_gsm7():
    c = count("Nexus er nede. Æblegrød på Østerbro, Åbenrå; Hälsa på Örebro")
    assert c.encoding == "GSM-7" and c.segments == 1


def test_gsm7_limits_and_the_escape_characters():
    assert count("a" * 160).segments == 1
    assert count("a" * 161).segments == 2
    assert count("a" * 306).segments == 2 and count("a" * 307).segments == 3
    assert count("€" * 80).units == 160 and count("€" * 81).segments == 2


def test_other_characters_make_it_ucs2():
    c = count("Nedbrud ✓")
    assert c.encoding == "UCS-2" and c.segments == 1
    assert count("✓" * 70).segments == 1 and count("✓" * 71).segments == 2
    assert count("😀" * 35).units == 70


def test_empty_text_has_no_segments():
    assert count("").segments == 0
