"""A named opening-hours schedule: weekly windows, holiday and eve policies, dated overrides."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from schedules.calendar import HolidayCalendar
from schedules.clock import WEEKDAYS, Window, describe_windows
from schedules.intervals import Interval, containing, merge, subtract

UTC = dt.timezone.utc
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_BLOCK = 16                 # days per cached block of merged intervals
_HORIZON_BLOCKS = 26        # look about 400 days ahead for the next change
_CACHE_DAYS = 4096          # at most this many days (and their blocks) are cached per schedule

PolicyKind = Literal["normal", "closed", "weekday", "hours", "close_at"]


@dataclass(frozen=True)
class DayPolicy:
    """How a holiday or an eve is treated: normal hours, closed, as another weekday, own hours,
    or normal hours cut off at `close_at` (minutes after midnight)."""

    kind: PolicyKind = "normal"
    weekday: int | None = None
    windows: tuple[Window, ...] = ()
    close_at: int | None = None

    def describe(self) -> str:
        """Return a short phrase such as "as Sunday" or "closing at 14:00"."""
        if self.kind == "weekday" and self.weekday is not None:
            return f"as {DAY_NAMES[self.weekday]}"
        if self.kind == "close_at" and self.close_at is not None:
            return f"closing at {self.close_at // 60:02d}:{self.close_at % 60:02d}"
        if self.kind == "hours":
            return "own hours"
        return {"normal": "normal hours", "closed": "closed"}[self.kind]


@dataclass(frozen=True)
class DayOverride:
    """Whole days with their own windows, e.g. round the clock from 24 Dec to 1 Jan.

    `first`/`last` are "MM-DD" (every year; may wrap over New Year) or "YYYY-MM-DD"; both inclusive.
    """

    name: str
    first: str
    last: str
    windows: tuple[Window, ...]
    announcement: str | None = None

    def covers(self, day: dt.date) -> bool:
        """Return True when `day` lies within the override."""
        if len(self.first) == 10:
            return self.first <= day.isoformat() <= self.last
        md = day.strftime("%m-%d")
        if self.first <= self.last:
            return self.first <= md <= self.last
        return md >= self.first or md <= self.last


@dataclass(frozen=True)
class TimeOverride:
    """A dated span in local time that forces open (True), closed (False) or only announces (None)."""

    name: str
    start: dt.datetime
    end: dt.datetime
    open: bool | None = None
    announcement: str | None = None


@dataclass(frozen=True)
class DayRule:
    """What governs one local date: a label for people, its windows, an optional announcement."""

    label: str
    windows: tuple[Window, ...]
    announcement: str | None = None


@dataclass(frozen=True)
class ScheduleState:
    """Whether a schedule is open at a moment, and why in words."""

    open: bool
    rule: str
    hours: str
    announcements: tuple[str, ...] = ()

    def describe(self) -> str:
        """Return "Fri 07:00-13:30" or "Juledag: closed" for reasons shown to people."""
        if self.hours == "closed" and self.rule.endswith("closed"):
            return self.rule
        return f"{self.rule} {self.hours}"


@dataclass(frozen=True)
class Schedule:
    """Opening hours in a time zone. All methods take aware datetimes and raise ValueError on naive ones."""

    name: str
    label: str
    tz: ZoneInfo
    calendar: HolidayCalendar
    weekly: tuple[tuple[Window, ...], ...]
    holidays: DayPolicy = DayPolicy("closed")
    eves: DayPolicy = DayPolicy("normal")
    day_overrides: tuple[DayOverride, ...] = ()
    time_overrides: tuple[TimeOverride, ...] = ()
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _blocks: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    # -- one local day ------------------------------------------------------------------------
    def day_rule(self, day: dt.date) -> DayRule:
        """Return the rule for local date `day`: override, holiday, eve or plain weekday."""
        for override in self.day_overrides:
            if override.covers(day):
                return DayRule(override.name, override.windows, override.announcement)
        weekday = WEEKDAYS[day.weekday()].capitalize()
        holiday = self.calendar.name(day)
        if holiday is not None:
            policy = self.holidays
            windows = self._policy_windows(policy, day)
            return DayRule(f"{holiday}: {policy.describe()}", windows)
        eve = self.calendar.eve_of(day)
        if eve is not None and self.eves.kind != "normal":
            windows = self._policy_windows(self.eves, day)
            return DayRule(f"{weekday}, eve of {eve}: {self.eves.describe()}", windows)
        return DayRule(weekday, self.weekly[day.weekday()])

    def _policy_windows(self, policy: DayPolicy, day: dt.date) -> tuple[Window, ...]:
        normal = self.weekly[day.weekday()]
        if policy.kind == "normal":
            return normal
        if policy.kind == "weekday" and policy.weekday is not None:
            return self.weekly[policy.weekday]
        if policy.kind == "hours":
            return policy.windows
        if policy.kind == "close_at" and policy.close_at is not None:
            cut = (w.truncated(policy.close_at) for w in normal)
            return tuple(w for w in cut if w is not None)
        return ()

    def day_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        """Return the open intervals (UTC) that windows of local date `day` produce."""
        cached = self._days.get(day)
        if cached is None:
            midnight = dt.datetime.combine(day, dt.time())
            cached = tuple(
                (self._instant(midnight + dt.timedelta(minutes=w.start)),
                 self._instant(midnight + dt.timedelta(minutes=w.end)))
                for w in self.day_rule(day).windows
            )
            if len(self._days) >= _CACHE_DAYS:
                self._days.clear()      # bounded over years of uptime; refilled on demand
            self._days[day] = cached
        return cached

    def _instant(self, local: dt.datetime) -> dt.datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    # -- spans of time ------------------------------------------------------------------------
    def _block(self, index: int) -> tuple[Interval, ...]:
        """Return merged intervals of the local dates with ordinals index*_BLOCK .. +_BLOCK-1 (cached)."""
        cached = self._blocks.get(index)
        if cached is None:
            spans: list[Interval] = []
            for ordinal in range(index * _BLOCK, (index + 1) * _BLOCK):
                spans.extend(self.day_intervals(dt.date.fromordinal(max(ordinal, 1))))
            cached = tuple(merge(spans))
            if len(self._blocks) >= _CACHE_DAYS // _BLOCK:
                self._blocks.clear()
            self._blocks[index] = cached
        return cached

    def _with_time_overrides(self, spans: list[Interval]) -> list[Interval]:
        for override in self.time_overrides:
            span = (self._instant(override.start), self._instant(override.end))
            if override.open is True:
                spans = merge(spans + [span])
            elif override.open is False:
                spans = subtract(spans, span)
        return spans

    def is_open(self, at: dt.datetime) -> bool:
        """Return True when the schedule is open at `at`."""
        return self.state_at(at).open

    def state_at(self, at: dt.datetime) -> ScheduleState:
        """Return whether the schedule is open at `at`, with the rule and the hours behind it."""
        at = _utc(at)
        day = at.astimezone(self.tz).date()
        announcements = tuple(
            o.announcement for o in self.time_overrides
            if o.announcement and self._instant(o.start) <= at < self._instant(o.end)
        )
        for override in self.time_overrides:
            if override.open is not None and self._instant(override.start) <= at < self._instant(override.end):
                span = f"{override.start:%Y-%m-%d %H:%M} to {override.end:%Y-%m-%d %H:%M}"
                return ScheduleState(override.open, override.name, span, announcements)
        yesterday = day - dt.timedelta(days=1)
        for owner in (yesterday, day):
            if any(start <= at < end for start, end in self.day_intervals(owner)):
                return self._state(owner, True, announcements)
        return self._state(day, False, announcements)

    def _state(self, day: dt.date, is_open: bool, announcements: tuple[str, ...]) -> ScheduleState:
        rule = self.day_rule(day)
        notes = announcements + ((rule.announcement,) if rule.announcement else ())
        return ScheduleState(is_open, rule.label, describe_windows(rule.windows), notes)

    def next_change(self, at: dt.datetime) -> dt.datetime | None:
        """Return the first moment after `at` when the schedule opens or closes, or None
        when it does not change within about a year (always open or always closed)."""
        at = _utc(at)
        day = at.astimezone(self.tz).date()
        first = (day.toordinal() - 1) // _BLOCK          # the block holding yesterday
        spans: list[Interval] = []
        for index in range(first, first + _HORIZON_BLOCKS):
            spans = merge(spans + list(self._block(index)))
            # Windows of later days start after this instant, so the open set before it is exact.
            trusted_end = self._instant(dt.datetime.combine(dt.date.fromordinal((index + 1) * _BLOCK), dt.time()))
            effective = self._with_time_overrides(spans)
            current = containing(effective, at)
            if current is not None:
                candidate = current[1]
            else:
                candidate = next((start for start, _ in effective if start > at), None)
            if candidate is not None and candidate < trusted_end:
                return candidate
        return None


def _utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a moment must be an aware datetime")
    return at.astimezone(UTC)
