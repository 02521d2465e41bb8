"""Decisions looked up in the per-day tables of routing.day_routes answer exactly as the uncached
path and the plain reference do: at random moments, at every stretch bound and a microsecond
either side, across clock changes (also one at midnight that turns the date back), with time
overrides, a schedule in another zone, a service without rules, and with a tiny cache bound."""
import datetime as dt
import io
import random
import struct

from zoneinfo import ZoneInfo

import pytest

from routing import Plan, RouteKind, Rule, Service, Target, decide, next_change
from routing import day_routes
from routing.decide import decide_uncached
from schedules import DayOverride, DayPolicy, HolidayCalendar, Schedule, TimeOverride, parse_window
from tests import routing_reference as ref
from tests.examples import EXAMPLES, example

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
UTC = dt.timezone.utc
START = dt.datetime(2025, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 4 * 366 * 24 * 60
US = dt.timedelta(microseconds=1)
DESK = Target("desk", "Service desk", RouteKind.SERVICE_DESK)
ON_CALL = Target("oncall", "On call", RouteKind.ON_CALL, announcement="You reach the technician on call.")
EMERGENCY = Target("beredskab", "Preparedness", RouteKind.EMERGENCY)


def _check(plan, service_id, at):
    """Assert the cached decision equals the uncached one and the reference; return it."""
    got = decide(plan, service_id, at)
    assert got == decide_uncached(plan, service_id, at), (service_id, at)
    want = ref.decide(plan, service_id, at)
    assert {"target": got.target, "route": got.route, "reason": got.reason, "at": got.at,
            "announcements": got.announcements, "next_change": got.next_change} == want, (service_id, at)
    assert next_change(plan, service_id, at) == want["next_change"], (service_id, at)
    return got


def _check_day(plan, service_id, day):
    """Check every stretch bound of the day's table, a microsecond either side, and mid-stretch."""
    decide(plan, service_id, dt.datetime.combine(day, dt.time(12), plan.tz))
    table = plan.services[service_id]._days[day]
    assert table.bounds, (service_id, day)
    for first, after in zip(table.bounds, table.bounds[1:] + [table.end]):
        for at in (first - US, first, first + US, first + (after - first) / 2, after - US):
            _check(plan, service_id, at)
            _check(plan, service_id, at.astimezone(plan.tz))


@pytest.mark.parametrize("name", NAMES)
def test_examples_match_at_random_moments_in_any_zone(name):
    rng = random.Random(name)
    plan = example(name).plan
    zones = [UTC, plan.tz, dt.timezone(dt.timedelta(hours=-5)), ZoneInfo("Asia/Tokyo")]
    for _ in range(300):
        service_id = rng.choice(sorted(plan.services))
        at = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES), seconds=rng.randrange(60),
                                  microseconds=rng.choice([0, rng.randrange(1_000_000)]))
        _check(plan, service_id, at.astimezone(rng.choice(zones)))


@pytest.mark.parametrize("name", NAMES)
def test_examples_match_at_every_bound_of_holiday_and_clock_change_days(name):
    plan = example(name).plan
    days = [dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 12, 24), dt.date(2026, 12, 31),
            dt.date(2027, 4, 1), dt.date(2027, 5, 14), dt.date(2026, 6, 5), dt.date(2026, 6, 19)]
    for service_id in sorted(plan.services):
        for day in days:
            _check_day(plan, service_id, day)


def _office(tz, calendar, time_overrides=()):
    week = tuple((parse_window("08:00-16:00"),) if d < 5 else (parse_window("22:00-06:00"),) for d in range(7))
    return Schedule("office", "Office hours", tz, calendar, week, holidays=DayPolicy("weekday", weekday=6),
                    eves=DayPolicy("close_at", close_at=12 * 60),
                    day_overrides=(DayOverride("Xmas", "12-24", "01-01", (parse_window("00:00-24:00"),),
                                               announcement="Christmas hours."),),
                    time_overrides=time_overrides)


def _night(tz, calendar):
    week = tuple((parse_window("16:00-08:00"),) for _ in range(7))
    return Schedule("night", "On-call hours", tz, calendar, week, holidays=DayPolicy("hours", windows=(
        parse_window("00:00-24:00"),)))


def _plan(tz, office, night):
    services = {
        "it": Service("it", "IT", (Rule(office, DESK), Rule(night, ON_CALL)), EMERGENCY, announcement="IT line."),
        "bare": Service("bare", "Bare", (), DESK),
    }
    return Plan("+4570000000", tz, services, "v1")


def test_overlapping_time_overrides_and_two_rules_match_at_every_bound():
    cph = ZoneInfo("Europe/Copenhagen")
    calendar = HolidayCalendar("DK", language="da")
    office = _office(cph, calendar, (
        TimeOverride("Move", dt.datetime(2026, 3, 2, 10), dt.datetime(2026, 3, 9, 12), open=False),
        TimeOverride("Drill", dt.datetime(2026, 3, 5, 20), dt.datetime(2026, 3, 12, 3), open=True),
        TimeOverride("Upgrade", dt.datetime(2026, 3, 4), dt.datetime(2026, 3, 6, 7, 30), announcement="Upgrade"),
    ))
    plan = _plan(cph, office, _night(cph, calendar))
    day = dt.date(2026, 3, 1)
    while day < dt.date(2026, 3, 14):       # the overrides run from 2 to 12 March
        _check_day(plan, "it", day)
        day += dt.timedelta(days=1)
    # clock changes; Maundy Thursday, where the night before overlaps the holiday's round-the-clock hours
    for day in (dt.date(2026, 3, 29), dt.date(2026, 4, 2), dt.date(2026, 10, 25), dt.date(2026, 12, 24)):
        for service_id in ("it", "bare"):
            _check_day(plan, service_id, day)


def test_a_clock_change_at_midnight_that_turns_the_date_back_matches():
    """Chile leaves summer time at midnight: Sunday 00:00 becomes Saturday 23:00 again."""
    santiago = ZoneInfo("America/Santiago")
    calendar = HolidayCalendar("CL")
    plan = _plan(santiago, _office(santiago, calendar), _night(santiago, calendar))
    fall_back = dt.datetime(2026, 4, 5, 3, tzinfo=UTC)         # 00:00 -03 -> 23:00 -04
    spring = dt.datetime(2026, 9, 6, 4, tzinfo=UTC)            # 00:00 -04 -> 01:00 -03
    for change in (fall_back, spring):
        for minutes in range(-26 * 60, 26 * 60, 13):
            for service_id in ("it", "bare"):
                _check(plan, service_id, change + dt.timedelta(minutes=minutes))
        for day in (change.date() - dt.timedelta(days=1), change.date()):
            _check_day(plan, "it", day)


def _zone_changing_at(at: dt.datetime, before_hours: int, after_hours: int) -> ZoneInfo:
    """Return a zone whose UTC offset goes from `before_hours` to `after_hours` at instant `at`
    (a minimal version 1 TZif file: one transition, two local time types)."""
    names = b"XA\0XB\0"
    header = b"TZif" + b"\0" * 16 + struct.pack(">6l", 0, 0, 0, 1, 2, len(names))
    body = (struct.pack(">lB", int(at.timestamp()), 1) + struct.pack(">lBB", before_hours * 3600, 0, 0)
            + struct.pack(">lBB", after_hours * 3600, 0, 3) + names)
    return ZoneInfo.from_file(io.BytesIO(header + body), key="Test/Back")


@pytest.mark.parametrize("before, after", [(2, 1), (1, 2)])
def test_a_clock_change_across_midnight_matches(before, after):
    """+02 -> +01: at 00:30 the clocks go back to 23:30 of the day before, so for half an hour
    after the local midnight the date is yesterday again, outside yesterday's day table.
    +01 -> +02: at 23:30 they jump to 00:30, so midnight itself never happens."""
    change = dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    zone = _zone_changing_at(change, before, after)
    dates = [(change - US).astimezone(zone).date(), change.astimezone(zone).date()]
    assert dates == ([dt.date(2026, 10, 25), dt.date(2026, 10, 24)] if before > after
                     else [dt.date(2026, 10, 24), dt.date(2026, 10, 25)])
    calendar = HolidayCalendar("DK")
    late = Schedule("late", "Late shift", zone, calendar, tuple((parse_window("23:40-00:15"),) for _ in range(7)))
    plan = Plan("+4570000000", zone, {"it": Service("it", "IT", (Rule(late, ON_CALL),), DESK)}, "v1")
    for seconds in range(-3 * 3600, 3 * 3600, 30):
        _check(plan, "it", change + dt.timedelta(seconds=seconds))


def test_a_schedule_in_another_zone_than_the_line_is_answered_uncached_and_the_same():
    calendar = HolidayCalendar("DK", language="da")
    plan = _plan(ZoneInfo("Europe/London"), _office(ZoneInfo("Europe/Copenhagen"), calendar),
                 _night(ZoneInfo("Europe/Copenhagen"), calendar))
    rng = random.Random(8)
    for _ in range(300):
        at = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
        assert decide(plan, "it", at) == decide_uncached(plan, "it", at), at
    assert all(not table.bounds for table in plan.services["it"]._days.values())


def test_the_day_tables_stay_within_their_bound_and_answer_the_same_after_being_emptied(monkeypatch):
    monkeypatch.setattr(day_routes, "CACHE_DAYS", 5)
    cph = ZoneInfo("Europe/Copenhagen")
    calendar = HolidayCalendar("DK", language="da")
    plan = _plan(cph, _office(cph, calendar), _night(cph, calendar))
    rng = random.Random(9)
    for _ in range(400):
        at = START + dt.timedelta(minutes=rng.randrange(60 * 24 * 12))
        _check(plan, "it", at)
        assert len(plan.services["it"]._days) <= 5


def test_change_points_split_a_day_into_stretches_of_equal_answers():
    cph = ZoneInfo("Europe/Copenhagen")
    sched = _office(cph, HolidayCalendar("DK", language="da"), (
        TimeOverride("Drill", dt.datetime(2026, 3, 5, 20), dt.datetime(2026, 3, 6, 3), open=True),))
    rng = random.Random(10)
    for day in (dt.date(2026, 3, 5), dt.date(2026, 3, 6), dt.date(2026, 3, 29), dt.date(2026, 12, 24)):
        points = sched.change_points(day)
        start = dt.datetime.combine(day, dt.time(), cph)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), cph)
        assert points[0] == start and points == sorted(set(points)) and points[-1] < end
        for _ in range(200):
            at = start + (end - start) * rng.random()
            first = max(p for p in points if p <= at)
            assert sched.state_at(at) == sched.state_at(first) == ref.state_at(sched, at), at
            assert sched.next_change(at) == sched.next_change(first) == ref.schedule_next_change(sched, at), at
