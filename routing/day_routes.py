"""Per service and local day, the stretches of time over which a decision stays the same.

A day's table splits the day at every instant where one of the service's schedules may answer
differently (`Schedule.change_points`). Within one stretch every moment of that local date gets
the same target, reason after its time stamp, announcements and next change, so these are
worked out once per stretch (on first use, by the uncached path in routing.decide) and looked up
by bisection afterwards.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from typing import Callable, NamedTuple

from routing.model import Plan, Service, Target
from schedules.clock import WEEKDAYS

UTC = dt.timezone.utc
CACHE_DAYS = 2048           # at most this many day tables per service (about 1-2 kB each)
_DAY_NAMES = tuple(day.capitalize() for day in WEEKDAYS)
_INVALID = False            # a stretch whose first instant falls on another local date


class Piece(NamedTuple):
    """What a decision at any moment of one stretch says, apart from its own time of day."""

    target: Target
    prefix: str             # "Mon 2026-01-05 ": the reason's stamp up to the time of day
    tail: str               # the reason after the stamp: ": within ... -> Service desk"
    announcements: tuple[str, ...]
    change: dt.datetime | None


# (plan, service, local moment, UTC moment) -> (target, reason tail, announcements, next change)
Solver = Callable[[Plan, Service, dt.datetime, dt.datetime],
                  tuple[Target, str, tuple[str, ...], dt.datetime | None]]


class DayTable:
    """One local date of one service: stretch starts (UTC, sorted) and their pieces, filled lazily."""

    __slots__ = ("tz", "day", "prefix", "start", "end", "bounds", "pieces")

    def __init__(self, plan: Plan, service: Service, day: dt.date) -> None:
        self.tz = plan.tz
        self.day = day
        self.prefix = f"{_DAY_NAMES[day.weekday()]} {day.year}-{day.month:02d}-{day.day:02d} "
        self.start = self.end = None
        self.bounds: list[dt.datetime] = []
        self.pieces: list = []
        if not 2 <= day.year <= 9998 or any(rule.schedule.tz is not plan.tz for rule in service.rules):
            return          # left empty: every moment goes the uncached way
        self.start, self.end = _midnight(plan, day), _midnight(plan, day + dt.timedelta(days=1))
        points = {self.start: None}
        for rule in service.rules:
            points.update(dict.fromkeys(rule.schedule.change_points(day)))
        self.bounds = sorted(points)
        self.pieces = [None] * len(self.bounds)


def _midnight(plan: Plan, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()).replace(tzinfo=plan.tz).astimezone(UTC)


def piece_at(plan: Plan, service: Service, local: dt.datetime, utc: dt.datetime, solve: Solver) -> Piece | None:
    """Return the piece for aware `local` (in the plan's zone; `utc` is the same moment in UTC),
    or None when this moment is to be answered uncached (`solve` fills a stretch on first use)."""
    day = local.date()
    table = service._days.get(day)
    if table is None or table.tz is not plan.tz:
        table = DayTable(plan, service, day)
        if len(service._days) >= CACHE_DAYS:
            service._days.clear()       # bounded over years of uptime; refilled on demand
        service._days[day] = table
    if table.start is None or not table.start <= utc < table.end:
        return None
    i = bisect_right(table.bounds, utc) - 1
    piece = table.pieces[i]
    if piece is None:
        piece = table.pieces[i] = _solve(plan, service, table, i, solve)
    return piece or None


def _solve(plan: Plan, service: Service, table: DayTable, i: int, solve: Solver) -> Piece | bool:
    first = table.bounds[i]
    local = first.astimezone(plan.tz)
    if local.date() != table.day:     # it starts in a skipped hour, already on the next date:
        return _INVALID               # its answers would be that date's, so it is left uncached
    target, tail, announcements, change = solve(plan, service, local, first)
    return Piece(target, table.prefix, tail, announcements, change)
