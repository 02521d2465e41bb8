"""An event's time as text (`utc_iso`) keeps the last second's text: the text must be what
working it out gives, whatever moments come in whatever order (same second, next second, the
same instant in other zones, a second of another day, before 1970)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from ivr.calls import events
from ivr.calls.events import utc_iso

ZONES = [dt.timezone.utc, ZoneInfo("Europe/Copenhagen"), ZoneInfo("Europe/Stockholm"),
         dt.timezone(dt.timedelta(hours=-9, minutes=-30)), dt.timezone(dt.timedelta(hours=14))]


def reference(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


moments = st.builds(
    lambda base, zone: base.astimezone(zone),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.just(dt.timezone.utc)),
    st.sampled_from(ZONES))
# Moments around one second, so that the kept text is hit and missed in turn.
BASE = dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.timezone.utc)   # the spring DST change is at 01:00 UTC
near = st.builds(lambda micros, zone: (BASE + dt.timedelta(microseconds=micros)).astimezone(zone),
                 st.integers(-2_000_001, 2_000_001), st.sampled_from(ZONES))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(moments, near), min_size=1, max_size=30))
def test_the_text_is_the_worked_out_one_in_any_order(sequence):
    for moment in sequence:
        assert utc_iso(moment) == reference(moment)


def test_edges_of_a_second_and_of_the_kept_range():
    cases = [
        dt.datetime(2026, 12, 24, 22, 59, 59, 999_999, tzinfo=ZoneInfo("Europe/Copenhagen")),
        dt.datetime(2026, 12, 24, 23, 0, 0, tzinfo=ZoneInfo("Europe/Copenhagen")),
        dt.datetime(2026, 12, 24, 22, 59, 59, 999_999, tzinfo=ZoneInfo("Europe/Copenhagen")),
        dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=dt.timezone.utc),   # a negative stamp
        dt.datetime(1970, 1, 1, 0, 0, 0, tzinfo=dt.timezone.utc),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.timezone.utc),
        dt.datetime(2106, 2, 7, 6, 28, 15, 999_999, tzinfo=dt.timezone.utc),     # just inside 2**32 s
        dt.datetime(2106, 2, 7, 6, 28, 16, 0, tzinfo=dt.timezone.utc),           # not kept from here on
        dt.datetime(3000, 1, 1, 0, 0, 0, 999_999, tzinfo=dt.timezone.utc),   # its float is the next second's
        dt.datetime(3000, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.timezone.utc),
    ]
    for moment in cases:
        assert utc_iso(moment) == reference(moment), moment


def test_the_same_second_is_worked_out_once(monkeypatch):
    moment = dt.datetime(2027, 1, 1, 12, 0, 0, 1, tzinfo=dt.timezone.utc)
    first = utc_iso(moment)
    monkeypatch.setattr(events, "_last_second", (moment.timestamp() // 1, "kept"))
    assert utc_iso(moment.replace(microsecond=999_999)) == "kept"
    assert utc_iso(moment + dt.timedelta(seconds=1)) == "2027-01-01T12:00:01+00:00"
    assert first == "2027-01-01T12:00:00+00:00"
