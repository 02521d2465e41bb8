"""ivr.numbers.is_valid_e164 keeps its answers for short strings: the same answers as the check
itself, for real numbers, anonymous callers' stand-ins and junk, asked once or many times."""
import pytest

from ivr import numbers

TABLE = [
    "+4534412350", "+4570112230", "+46104550001", "+4534412399",
    "+266696687", "+7378742833", "+2562533", "+86282452253",  # Twilio's anonymous/unknown stand-ins
    "anonymous", "Anonymous", "restricted", "unknown", "client:alice", "sip:alice@example.com",
    "4534412350", "004534412350", "+45 34 41 23 50", " +4534412350", "+4534412350 ", "+45-34412350",
    "+", "", "+0", "+00", "+4534", "+453441235012345678", "+4534412350\x00", "+４５３４４１２３５０",
    "+" + "9" * 31, "+" + "4" * 40, "x" * 100,
]


@pytest.mark.parametrize("text", TABLE)
def test_kept_answers_equal_the_check_itself(text):
    numbers._valid_e164_cached.cache_clear()
    expected = numbers._valid_e164(text)
    assert numbers.is_valid_e164(text) is expected
    assert numbers.is_valid_e164(text) is expected  # the second time from what was kept


def test_known_answers():
    assert numbers.is_valid_e164("+4534412350") and numbers.is_valid_e164("+46104550001")
    assert not numbers.is_valid_e164("+266696687") and not numbers.is_valid_e164("anonymous")
    assert not numbers.is_valid_e164("+45 34 41 23 50") and not numbers.is_valid_e164("")


def test_only_short_str_answers_are_kept_and_their_number_is_bounded():
    numbers._valid_e164_cached.cache_clear()
    numbers.is_valid_e164("+4534412350")
    numbers.is_valid_e164("+" + "4" * 40)

    class Text(str):
        pass

    assert numbers.is_valid_e164(Text("+4534412350"))
    info = numbers._valid_e164_cached.cache_info()
    assert info.currsize == 1 and info.maxsize == numbers.VALID_KEPT


def test_what_is_not_a_str_fails_as_before():
    with pytest.raises(AttributeError):
        numbers.is_valid_e164(None)
