"""Schedules on their own: window parsing, overnight windows, DST, eves, overrides, next change."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from schedules import DayOverride, DayPolicy, HolidayCalendar, Schedule, TimeOverride, parse_weekdays, parse_window
from schedules.clock import parse_time

CPH = ZoneInfo("Europe/Copenhagen")
STO = ZoneInfo("Europe/Stockholm")
DK = HolidayCalendar("DK", language="da")
SE = HolidayCalendar("SE", categories=("public", "de_facto"), language="sv")


def weekly(**days):
    out = [()] * 7
    for spec, texts in days.items():
        for d in parse_weekdays(spec.replace("_", "-")):
            out[d] = tuple(parse_window(t) for t in texts)
    return tuple(out)


@pytest.mark.parametrize("text, start, end", [
    ("08:00-15:30", 480, 930),
    ("00:00-24:00", 0, 1440),
    ("22:00-06:00", 1320, 1800),
    ("23:59-00:00", 1439, 1440),
])
def test_parse_window(text, start, end):
    w = parse_window(text)
    assert (w.start, w.end) == (start, end)


@pytest.mark.parametrize("text", ["8-15", "08:00", "25:00-26:00", "08:60-09:00", "08:00-08:00", "24:00-01:00", "x"])
def test_parse_window_refuses(text):
    with pytest.raises(ValueError):
        parse_window(text)


def test_parse_weekdays_and_time():
    assert parse_weekdays("tue-wed") == (1, 2)
    assert parse_weekdays("mon,fri") == (0, 4)
    with pytest.raises(ValueError):
        parse_weekdays("fri-mon")
    with pytest.raises(ValueError):
        parse_weekdays("funday")
    assert parse_time("14:00") == 840


NIGHT = Schedule("night", "Night duty", CPH, DK, weekly(mon_sun=["22:00-06:00"]), holidays=DayPolicy("normal"))


@pytest.mark.parametrize("local, is_open", [
    ("2026-11-23T21:59", False),
    ("2026-11-23T22:00", True),          # exact start
    ("2026-11-24T05:59", True),          # past midnight, still Monday's window
    ("2026-11-24T06:00", False),         # exact end
    ("2026-03-29T01:30", True),          # the night of the spring change (02:00 -> 03:00)
    ("2026-03-29T03:30", True),
    ("2026-03-29T05:59", True),
    ("2026-03-29T06:00", False),
    ("2026-10-25T05:59", True),          # the night of the fall change (03:00 -> 02:00)
    ("2026-10-25T06:00", False),
])
def test_overnight_window(local, is_open):
    assert NIGHT.is_open(dt.datetime.fromisoformat(local).replace(tzinfo=CPH)) is is_open


def test_overnight_window_lasts_one_hour_less_and_more_over_dst():
    def length(day):
        start = dt.datetime.fromisoformat(f"{day}T22:00").replace(tzinfo=CPH)
        return NIGHT.next_change(start) - start

    assert length("2026-03-28") == dt.timedelta(hours=7)
    assert length("2026-10-24") == dt.timedelta(hours=9)
    assert length("2026-11-23") == dt.timedelta(hours=8)


def test_ambiguous_hour_in_autumn_uses_real_instants():
    sched = Schedule("s", "S", CPH, DK, weekly(sun=["02:30-04:00"]), holidays=DayPolicy("normal"))
    first = dt.datetime(2026, 10, 25, 0, 29, tzinfo=dt.timezone.utc)    # 02:29 CEST
    assert not sched.is_open(first)
    assert sched.is_open(first + dt.timedelta(minutes=1))               # 02:30 CEST, first pass
    assert sched.is_open(dt.datetime(2026, 10, 25, 2, 59, tzinfo=dt.timezone.utc))   # 03:59 CET
    assert not sched.is_open(dt.datetime(2026, 10, 25, 3, 0, tzinfo=dt.timezone.utc))


OFFICE_SE = weekly(mon_fri=["08:00-17:00"])


@pytest.mark.parametrize("policy, local, is_open, rule", [
    (DayPolicy("close_at", close_at=14 * 60), "2026-06-18T13:59", True, "Thu, eve of Midsommarafton: closing at 14:00"),
    (DayPolicy("close_at", close_at=14 * 60), "2026-06-18T14:00", False, "Thu, eve of Midsommarafton: closing at 14:00"),
    (DayPolicy("closed"), "2026-12-23T10:00", False, "Wed, eve of Julafton: closed"),
    (DayPolicy("normal"), "2026-12-23T16:59", True, "Wed"),
    (DayPolicy("close_at", close_at=15 * 60), "2026-12-30T15:00", False, "Wed, eve of Nyårsafton: closing at 15:00"),
    (DayPolicy("close_at", close_at=15 * 60), "2026-12-24T10:00", False, "Julafton: closed"),
])
def test_swedish_eves(policy, local, is_open, rule):
    sched = Schedule("o", "Office", STO, SE, OFFICE_SE, holidays=DayPolicy("closed"), eves=policy)
    state = sched.state_at(dt.datetime.fromisoformat(local).replace(tzinfo=STO))
    assert (state.open, state.rule) == (is_open, rule)


@pytest.mark.parametrize("policy, local, is_open", [
    (DayPolicy("closed"), "2026-05-14T10:00", False),
    (DayPolicy("normal"), "2026-05-14T10:00", True),
    (DayPolicy("weekday", weekday=6), "2026-05-14T10:00", False),    # as Sunday: Sunday closed
    (DayPolicy("hours", windows=(parse_window("09:00-12:00"),)), "2026-05-14T11:59", True),
    (DayPolicy("hours", windows=(parse_window("09:00-12:00"),)), "2026-05-14T12:00", False),
])
def test_holiday_policies(policy, local, is_open):
    sched = Schedule("o", "Office", CPH, DK, weekly(mon_fri=["08:00-17:00"]), holidays=policy)
    assert sched.is_open(dt.datetime.fromisoformat(local).replace(tzinfo=CPH)) is is_open


def test_calendar_extra_and_exclude():
    cal = HolidayCalendar("DK", extra=(("12-24", "Juleaftensdag"), ("2026-11-30", "Lukket")),
                          exclude=("Skærtorsdag",), language="da")
    assert cal.name(dt.date(2027, 12, 24)) == "Juleaftensdag"
    assert cal.name(dt.date(2026, 11, 30)) == "Lukket"
    assert cal.name(dt.date(2026, 4, 2)) is None
    assert cal.name(dt.date(2026, 4, 3)) == "Langfredag"


def test_day_override_wraps_new_year_and_time_override_forces_state():
    sched = Schedule(
        "o", "Office", CPH, DK, weekly(mon_fri=["08:00-16:00"]),
        day_overrides=(DayOverride("Xmas", "12-24", "01-01", (parse_window("00:00-24:00"),)),),
        time_overrides=(
            TimeOverride("Closed for move", dt.datetime(2026, 11, 24, 12), dt.datetime(2026, 11, 24, 14), open=False),
            TimeOverride("Upgrade", dt.datetime(2026, 11, 25, 9), dt.datetime(2026, 11, 25, 14), announcement="Upgrade"),
        ),
    )
    at = lambda s: dt.datetime.fromisoformat(s).replace(tzinfo=CPH)  # noqa: E731
    assert sched.is_open(at("2026-12-26T03:00")) and sched.is_open(at("2027-01-01T23:59"))
    assert not sched.is_open(at("2027-01-02T03:00"))
    assert not sched.is_open(at("2026-11-24T12:00")) and sched.is_open(at("2026-11-24T14:00"))
    assert sched.next_change(at("2026-11-24T10:00")) == at("2026-11-24T12:00")
    assert sched.state_at(at("2026-11-25T09:00")).announcements == ("Upgrade",)
    assert sched.state_at(at("2026-11-25T14:00")).announcements == ()


def test_always_open_and_never_open_have_no_next_change():
    always = Schedule("a", "A", CPH, DK, weekly(mon_sun=["00:00-24:00"]), holidays=DayPolicy("normal"))
    never = Schedule("n", "N", CPH, DK, weekly())
    now = dt.datetime(2026, 11, 23, 12, tzinfo=CPH)
    assert always.is_open(now) and always.next_change(now) is None
    assert not never.is_open(now) and never.next_change(now) is None


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        NIGHT.is_open(dt.datetime(2026, 11, 23, 22))


def test_caches_stay_bounded_over_many_years():
    from schedules.schedule import _CACHE_CHUNKS, _CACHE_DAYS

    sched = Schedule("o", "Office", CPH, DK, weekly(mon_fri=["08:00-16:00"]))
    start = dt.datetime(2026, 1, 5, 9, tzinfo=CPH)
    for week in range(0, 52 * 30, 3):          # 30 years, a question every three weeks
        at = start + dt.timedelta(weeks=week)
        assert sched.is_open(at) is (DK.name(at.date()) is None)
        assert sched.next_change(at) is not None
    assert len(sched._days) <= _CACHE_DAYS and len(sched._blocks) <= _CACHE_DAYS // 16
    assert len(sched._rules) <= _CACHE_DAYS and len(sched._states) <= _CACHE_DAYS
    assert len(sched._chunks) <= _CACHE_CHUNKS and len(sched._starts) <= _CACHE_DAYS // 16
    assert len(DK._cache) <= 4096
