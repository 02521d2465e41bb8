"""The webhook URLs' query strings are urlencode's text, for any parameters."""
from __future__ import annotations

import enum
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings, strategies as st

from ivr.voice.query import KEPT_LENGTH, query_text


class Kind(enum.IntEnum):
    A = 1


class Named(str, enum.Enum):
    X = "x y"


def _urlencode(params: dict) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


_values = st.one_of(
    st.none(), st.text(max_size=20), st.text(max_size=KEPT_LENGTH + 20),
    st.text(alphabet="aZ09+ .-_~/%&=\u00e6\u20ac", max_size=12), st.integers(), st.booleans(),
    st.binary(max_size=8), st.floats(allow_nan=False), st.sampled_from([Kind.A, Named.X, "", "+4570112230"]))
_names = st.one_of(st.text(max_size=8), st.sampled_from(["p", "t", "n", "line", "s", "at", "v", "i", "parent"]))


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(_names, _values, max_size=8))
def test_the_text_is_urlencodes_for_any_parameters(params):
    assert query_text(params) == _urlencode(params)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_names, _values, max_size=6))
def test_kept_quotings_give_the_same_text_the_second_time(params):
    assert query_text(params) == query_text(params) == _urlencode(params)


def test_the_hotline_parameters_by_hand():
    params = {"i": 0, "parent": "CA0123456789abcdef0123456789abcdef", "s": "it-support", "at": 1796000000,
              "line": "+4570112230", "v": None, "p": "", "t": -1, "x": "\u00e6 \u20ac", "b": b"\x00 +"}
    assert query_text(params) == _urlencode(params)
    assert query_text({}) == "" == query_text({"v": None})


def test_what_urlencode_refuses_is_refused_alike():
    for params in ({"s": "\ud800"}, {"s\ud800": "a"}):
        with pytest.raises(UnicodeEncodeError):
            _urlencode(params)
        with pytest.raises(UnicodeEncodeError):
            query_text(params)
