"""A decision worked out once per minute (ivr.voice.minute_decisions) is, for every moment of that
minute, what deciding anew gives: the same chain, the same dict and the same logged text."""
from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.calls.chain import chain_from_decision
from ivr.calls.event_json import decision_dict
from ivr.voice import minute_decisions
from ivr.voice.minute_decisions import chain_at, decided
from routing import decide
from tests.examples import EXAMPLES, example

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
UTC = dt.timezone.utc
# Random moments, and the edges: the DST changes of 2026 and 2027 (both countries change at
# 01:00 UTC), Christmas Eve, New Year, Easter, midnight and the hours where office hours start and end.
EDGES = [dt.datetime(2026, 3, 29, 0, 59), dt.datetime(2026, 3, 29, 1, 0), dt.datetime(2026, 10, 25, 0, 59),
         dt.datetime(2026, 10, 25, 1, 0), dt.datetime(2027, 3, 28, 1, 0), dt.datetime(2027, 10, 31, 1, 0),
         dt.datetime(2026, 12, 24, 22, 0), dt.datetime(2026, 12, 31, 23, 0), dt.datetime(2027, 1, 1, 0, 0),
         dt.datetime(2027, 3, 26, 7, 0), dt.datetime(2027, 3, 29, 14, 59), dt.datetime(2026, 11, 30, 6, 59),
         dt.datetime(2026, 11, 30, 7, 0), dt.datetime(2026, 11, 30, 15, 0), dt.datetime(2026, 12, 5, 23, 0)]
minutes = st.one_of(st.sampled_from(EDGES),
                    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31)))


def _same_as_deciding_anew(hotline, service, at):
    made = decide(hotline.plan, service, at)
    chain, data = decided(hotline, service, at)
    expected = decision_dict(made)
    assert chain == chain_from_decision(made) == chain_at(hotline, service, at)
    assert data == expected == made.to_dict()
    assert data.json == expected.json


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NAMES), st.data(), minutes,
       st.lists(st.integers(min_value=0, max_value=59_999_999), min_size=2, max_size=4))
def test_every_moment_of_a_minute_gets_what_deciding_anew_gives(name, data, minute, offsets):
    hotline = example(name)
    service = data.draw(st.sampled_from(sorted(hotline.plan.services)))
    start = minute.replace(second=0, microsecond=0, tzinfo=UTC)
    for offset in offsets:   # the first moment works the minute out, the others take it
        _same_as_deciding_anew(hotline, service, start + dt.timedelta(microseconds=offset))


def test_the_minutes_first_call_decides_and_the_next_minute_decides_again(monkeypatch):
    hotline = example(NAMES[0])
    service = sorted(hotline.plan.services)[0]
    calls = []
    real = minute_decisions.decide
    monkeypatch.setattr(minute_decisions, "decide", lambda *a: calls.append(a[2]) or real(*a))
    start = dt.datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    for seconds in (0, 17, 59.999, 60, 61):
        decided(hotline, service, start + dt.timedelta(seconds=seconds))
    assert calls == [start, start + dt.timedelta(seconds=60)]


def test_a_reloaded_plan_decides_anew():
    hotline = example(NAMES[0])
    service = sorted(hotline.plan.services)[0]
    at = dt.datetime(2031, 5, 6, 9, 0, 30, tzinfo=UTC)
    first, _ = decided(hotline, service, at)
    reloaded = dataclasses.replace(hotline, plan=dataclasses.replace(hotline.plan, version="reloaded"))
    chain, data = decided(reloaded, service, at)
    assert first.config_version != "reloaded"
    assert chain.config_version == data["config_version"] == "reloaded"


def test_a_naive_moment_and_an_unknown_service_raise_as_decide_does():
    hotline = example(NAMES[0])
    with pytest.raises(ValueError):
        decided(hotline, sorted(hotline.plan.services)[0], dt.datetime(2031, 5, 6, 9, 0))
    with pytest.raises(KeyError):
        decided(hotline, "no-such-service", dt.datetime(2031, 5, 6, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize("second,micro", [(0, 0), (0, 1), (59, 999_999), (30, 0), (7, 500_000)])
def test_the_moments_local_text_at_the_edges_of_a_second(second, micro):
    for name in NAMES:
        hotline = example(name)
        for service in sorted(hotline.plan.services):
            for minute in EDGES:
                _same_as_deciding_anew(hotline, service, minute.replace(second=second, microsecond=micro, tzinfo=UTC))


ZONES = [ZoneInfo("Europe/Copenhagen"), dt.timezone(dt.timedelta(hours=5, minutes=30)),
         dt.timezone(dt.timedelta(minutes=50, seconds=20)), dt.timezone(dt.timedelta(seconds=-1, microseconds=1))]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(NAMES), st.data(), minutes, st.integers(min_value=0, max_value=59_999_999),
       st.sampled_from(ZONES))
def test_a_moment_given_in_another_zone_gets_what_deciding_anew_gives(name, data, minute, offset, zone):
    hotline = example(name)
    service = data.draw(st.sampled_from(sorted(hotline.plan.services)))
    start = minute.replace(second=0, microsecond=0, tzinfo=UTC)
    _same_as_deciding_anew(hotline, service, start)   # the minute worked out from a UTC moment
    _same_as_deciding_anew(hotline, service, (start + dt.timedelta(microseconds=offset)).astimezone(zone))


def test_a_zone_whose_offset_is_no_whole_minute_is_written_as_deciding_anew_writes(monkeypatch):
    hotline = example(NAMES[0])
    odd = dt.timezone(dt.timedelta(minutes=50, seconds=20))   # as local mean time was
    plan = dataclasses.replace(hotline.plan, tz=odd, version="odd-offset")
    hotline = dataclasses.replace(hotline, plan=plan)
    service = sorted(hotline.plan.services)[0]
    for seconds in (0, 39, 40, 59.5):
        _same_as_deciding_anew(hotline, service, dt.datetime(2031, 5, 6, 9, 0, tzinfo=UTC) + dt.timedelta(seconds=seconds))
