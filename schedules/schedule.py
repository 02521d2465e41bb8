"""A named opening-hours schedule: weekly windows, holiday and eve policies, dated overrides."""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from schedules.calendar import HolidayCalendar
from schedules.clock import WEEKDAYS, Window, describe_windows
from schedules.intervals import Interval, merge, subtract

UTC = dt.timezone.utc
_ONE_DAY = dt.timedelta(days=1)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_BLOCK = 16                 # days per cached block of merged intervals
_HORIZON_BLOCKS = 26        # look about 400 days ahead for the next change
_CACHE_DAYS = 4096          # at most this many days (and their blocks) are cached per schedule
_CHUNK_BLOCKS = 8           # next_change answers from a cached edge list per 8 blocks (128 days)
_CACHE_CHUNKS = 16          # at most this many edge lists (each about 540 days) per schedule

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
    _rules: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _states: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _chunks: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _starts: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _spans: list = field(default_factory=list, init=False, repr=False, compare=False, hash=False)

    # -- one local day ------------------------------------------------------------------------
    def day_rule(self, day: dt.date) -> DayRule:
        """Return the rule for local date `day`: override, holiday, eve or plain weekday."""
        cached = self._rules.get(day)
        if cached is None:
            cached = self._day_rule(day)
            _bounded_put(self._rules, day, cached, _CACHE_DAYS)
        return cached

    def _day_rule(self, day: dt.date) -> DayRule:
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
            _bounded_put(self._days, day, cached, _CACHE_DAYS)
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
            _bounded_put(self._blocks, index, cached, _CACHE_DAYS // _BLOCK)
        return cached

    def _override_spans(self) -> list[tuple[dt.datetime, dt.datetime, TimeOverride]]:
        """Return each time override with its span in UTC (computed once)."""
        if len(self._spans) != len(self.time_overrides):
            self._spans[:] = [(self._instant(o.start), self._instant(o.end), o) for o in self.time_overrides]
        return self._spans

    def _with_time_overrides(self, spans: list[Interval]) -> list[Interval]:
        for start, end, override in self._override_spans():
            if override.open is True:
                spans = merge(spans + [(start, end)])
            elif override.open is False:
                spans = subtract(spans, (start, end))
        return spans

    def is_open(self, at: dt.datetime) -> bool:
        """Return True when the schedule is open at `at` (as `state_at(at).open`, faster)."""
        day = _local_date(at, self.tz)
        at = _utc(at)
        for start, end, override in self._override_spans():
            if override.open is not None and start <= at < end:
                return override.open
        for owner in (day - _ONE_DAY, day):
            for start, end in self.day_intervals(owner):
                if start <= at < end:
                    return True
        return False

    def state_at(self, at: dt.datetime) -> ScheduleState:
        """Return whether the schedule is open at `at`, with the rule and the hours behind it."""
        day = _local_date(at, self.tz)
        at = _utc(at)
        announcements: tuple[str, ...] = ()
        if self.time_overrides:
            inside = [o for start, end, o in self._override_spans() if start <= at < end]
            announcements = tuple(o.announcement for o in inside if o.announcement)
            for override in inside:
                if override.open is not None:
                    span = f"{override.start:%Y-%m-%d %H:%M} to {override.end:%Y-%m-%d %H:%M}"
                    return ScheduleState(override.open, override.name, span, announcements)
        for owner in (day - _ONE_DAY, day):
            for start, end in self.day_intervals(owner):
                if start <= at < end:
                    return self._state(owner, True, announcements)
        return self._state(day, False, announcements)

    def _state(self, day: dt.date, is_open: bool, announcements: tuple[str, ...]) -> ScheduleState:
        key = (day, is_open, announcements)
        cached = self._states.get(key)
        if cached is None:
            rule = self.day_rule(day)
            notes = announcements + ((rule.announcement,) if rule.announcement else ())
            cached = ScheduleState(is_open, rule.label, describe_windows(rule.windows), notes)
            _bounded_put(self._states, key, cached, _CACHE_DAYS)
        return cached

    def next_change(self, at: dt.datetime) -> dt.datetime | None:
        """Return the first moment after `at` when the schedule opens or closes, or None
        when it does not change within about a year (always open or always closed)."""
        day = _local_date(at, self.tz)
        at = _utc(at)
        first = (day.toordinal() - 1) // _BLOCK          # the block holding yesterday
        edges = self._edges(first // _CHUNK_BLOCKS)
        i = bisect_right(edges, at)
        if i == len(edges):
            return None
        # Only changes before the horizon count: the days after it were not looked at.
        return edges[i] if edges[i] < self._block_start(first + _HORIZON_BLOCKS) else None

    def change_points(self, day: dt.date) -> list[dt.datetime]:
        """Return, sorted, the instant (UTC) of local date `day`'s midnight and every later instant
        before the next midnight at which `state_at`, `is_open` or `next_change` of a moment on
        `day` may answer differently than just before it (window ends of yesterday and today,
        time overrides, open/close edges).

        Between two consecutive points, moments whose local date is `day` get the same answers.
        """
        start = self._instant(dt.datetime.combine(day, dt.time()))
        end = self._instant(dt.datetime.combine(day + _ONE_DAY, dt.time()))
        found = {start}
        for owner in (day - _ONE_DAY, day):
            for interval in self.day_intervals(owner):
                found.update(interval)
        for span_start, span_end, _ in self._override_spans():
            found.update((span_start, span_end))
        edges = self._edges((day.toordinal() - 1) // _BLOCK // _CHUNK_BLOCKS)
        found.update(edges[bisect_right(edges, start):bisect_left(edges, end)])
        return sorted(p for p in found if start <= p < end)

    def _block_start(self, index: int) -> dt.datetime:
        """Return the instant (UTC) block `index` starts: local midnight of its first day."""
        cached = self._starts.get(index)
        if cached is None:
            cached = self._instant(dt.datetime.combine(dt.date.fromordinal(index * _BLOCK), dt.time()))
            _bounded_put(self._starts, index, cached, _CACHE_DAYS // _BLOCK)
        return cached

    def _edges(self, chunk: int) -> list[dt.datetime]:
        """Return the instants (UTC, sorted) where the schedule opens or closes, time overrides
        applied, over the blocks any moment of `chunk` looks at: its own blocks and a horizon more.

        Windows of a day end before the midnight two days on, so for a moment in block `first`
        or later the open set from `first`'s block onwards is exact; edges before that moment
        are never asked for.
        """
        cached = self._chunks.get(chunk)
        if cached is None:
            spans: list[Interval] = []
            start = chunk * _CHUNK_BLOCKS
            for index in range(start, start + _CHUNK_BLOCKS + _HORIZON_BLOCKS):
                spans.extend(self._block(index))
            cached = [edge for span in self._with_time_overrides(merge(spans)) for edge in span]
            _bounded_put(self._chunks, chunk, cached, _CACHE_CHUNKS)
        return cached


def _bounded_put(cache: dict, key, value, limit: int) -> None:
    """Store `value`, first emptying `cache` once it holds `limit` entries (refilled on demand)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def _local_date(at: dt.datetime, tz: ZoneInfo) -> dt.date:
    """Return the local date of aware `at` in `tz` (raises ValueError for a naive datetime)."""
    if at.tzinfo is None:
        raise ValueError("a moment must be an aware datetime")
    return at.astimezone(tz).date()


def _utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is UTC:
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a moment must be an aware datetime")
    return at.astimezone(UTC)
