"""The optimised routing (cached day intervals, bisected change lists) answers exactly as a
straightforward reference does, over many random moments and right at the changes."""
import datetime as dt
import random

from zoneinfo import ZoneInfo

import pytest

from routing import decide
from routing.decide import target_at
from schedules import DayOverride, DayPolicy, HolidayCalendar, Schedule, TimeOverride, parse_window
from tests import routing_reference as ref
from tests.examples import EXAMPLES, example

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
UTC = dt.timezone.utc
START = dt.datetime(2025, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 4 * 366 * 24 * 60


def _cases():
    return [(example(name), service) for name in NAMES for service in sorted(example(name).plan.services)]


def _same(hotline, service_id, at):
    got = decide(hotline.plan, service_id, at)
    want = ref.decide(hotline.plan, service_id, at)
    assert {"target": got.target, "route": got.route, "reason": got.reason, "at": got.at,
            "announcements": got.announcements, "next_change": got.next_change} == want, (service_id, at)
    return got


@pytest.mark.parametrize("seed", [1, 2])
def test_decisions_match_the_reference_at_random_moments(seed):
    rng = random.Random(seed)
    cases = _cases()
    for _ in range(400):
        hotline, service_id = cases[rng.randrange(len(cases))]
        at = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES), seconds=rng.randrange(60),
                                  microseconds=rng.choice([0, rng.randrange(1_000_000)]))
        _same(hotline, service_id, at)


def test_decisions_match_the_reference_right_at_and_around_each_change():
    rng = random.Random(3)
    for hotline, service_id in _cases():
        at = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
        for _ in range(25):      # walk the changes: each one, a microsecond before and after
            change = _same(hotline, service_id, at).next_change
            if change is None:
                break
            for near in (change - dt.timedelta(microseconds=1), change + dt.timedelta(minutes=1)):
                _same(hotline, service_id, near)
            at = change


def test_is_open_matches_the_reference_state_for_every_schedule():
    rng = random.Random(4)
    for hotline, service_id in _cases():
        service = hotline.plan.services[service_id]
        for _ in range(60):
            at = START + dt.timedelta(minutes=rng.randrange(SPAN_MINUTES))
            for rule in service.rules:
                assert rule.schedule.is_open(at) is ref.state_at(rule.schedule, at).open, (rule.schedule.name, at)
                assert rule.schedule.state_at(at) == ref.state_at(rule.schedule, at)
            assert target_at(service, at.astimezone(hotline.tz)) is ref.target_at(service, at)


def test_a_schedule_with_overlapping_time_overrides_matches_the_reference():
    """Forced-open and forced-closed spans that overlap, an announcement-only span, a day override
    over New Year and a night window: state, openness and next change agree with the reference."""
    cph = ZoneInfo("Europe/Copenhagen")
    office = tuple((parse_window("08:00-16:00"),) if d < 5 else (parse_window("22:00-06:00"),) for d in range(7))
    sched = Schedule(
        "o", "Office", cph, HolidayCalendar("DK", language="da"), office, holidays=DayPolicy("weekday", weekday=6),
        eves=DayPolicy("close_at", close_at=12 * 60),
        day_overrides=(DayOverride("Xmas", "12-24", "01-01", (parse_window("00:00-24:00"),)),),
        time_overrides=(
            TimeOverride("Move", dt.datetime(2026, 3, 2, 10), dt.datetime(2026, 3, 9, 12), open=False),
            TimeOverride("Drill", dt.datetime(2026, 3, 5, 20), dt.datetime(2026, 3, 12, 3), open=True),
            TimeOverride("Upgrade", dt.datetime(2026, 3, 4), dt.datetime(2026, 3, 6), announcement="Upgrade"),
        ),
    )
    rng = random.Random(5)
    base = dt.datetime(2026, 2, 20, tzinfo=UTC)
    for _ in range(1500):
        at = base + dt.timedelta(minutes=rng.randrange(60 * 24 * 400))
        assert sched.state_at(at) == ref.state_at(sched, at), at
        assert sched.is_open(at) is ref.state_at(sched, at).open, at
        assert sched.next_change(at) == ref.schedule_next_change(sched, at), at
