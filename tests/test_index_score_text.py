"""A call's index score carries its text (ivr.calls.append.Score): the journal line and the
script's arguments write what they wrote for the plain float."""
from __future__ import annotations

import copy
import datetime as dt
import json
import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.calls.append import Score, append_arguments, score
from ivr.calls.events import event
from ivr.calls.journal import journal_line

AT = dt.datetime(2026, 11, 23, 8, 12, 7, 250000, tzinfo=dt.timezone.utc)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_score_is_its_float_with_that_floats_text(value):
    kept = Score(value)
    assert kept == value and kept.text == repr(value) == score(value) == score(kept)
    assert json.dumps(kept) == json.dumps(value)
    for other in (pickle.loads(pickle.dumps(kept)), copy.copy(kept)):
        assert type(other) is float and other == value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_score_that_is_no_finite_number_is_refused_as_the_float_is(bad):
    with pytest.raises(ValueError):
        score(Score(bad))


@given(st.floats(min_value=0, max_value=2.0 ** 33, allow_nan=False), st.integers(1, 400))
def test_the_journal_line_and_the_scripts_arguments_are_those_of_the_plain_float(stamp, days):
    ev = event("CA" + "3" * 32, "+4570112230", "start", "start", AT, to="+4570112230")
    text = json.dumps(ev)
    assert journal_line(text, days, Score(stamp), None) == journal_line(text, days, stamp, None)
    assert append_arguments([(ev, days, Score(stamp))]) == append_arguments([(ev, days, stamp)])
