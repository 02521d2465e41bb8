"""Clock-of-day windows and weekday sets: the small value types schedules are made of."""
from __future__ import annotations

import re
from dataclasses import dataclass

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, order=True)
class Window:
    """Open from `start` to `end`, in minutes after local midnight of the day it belongs to.

    `end` is at most 1440 for a window within the day; a window past midnight ("22:00-06:00")
    has end > 1440 and belongs to the day it starts on.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < DAY_MINUTES:
            raise ValueError(f"window start {self.start} is outside the day")
        if not self.start < self.end <= self.start + DAY_MINUTES:
            raise ValueError("window must end after it starts and last at most 24 hours")

    @property
    def overnight(self) -> bool:
        """True when the window runs past midnight into the next day."""
        return self.end > DAY_MINUTES

    def truncated(self, close_at: int) -> Window | None:
        """Return this window cut to end at `close_at` minutes, or None if nothing is left."""
        if close_at <= self.start:
            return None
        return Window(self.start, min(self.end, close_at))

    def __str__(self) -> str:
        return f"{_fmt(self.start)}-{_fmt(self.end - DAY_MINUTES if self.overnight else self.end)}"


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_time(text: str, *, allow_24: bool = False) -> int:
    """Return minutes after midnight for "HH:MM"; raises ValueError on anything else."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a time like 08:00")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ValueError(f"{text!r} is not a valid time of day")
    return hours * 60 + minutes


def parse_window(text: str) -> Window:
    """Parse "08:00-15:30", "22:00-06:00" (past midnight) or "00:00-24:00" (all day).

    Raises ValueError with a readable message.
    """
    parts = str(text).split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a window like 08:00-15:30")
    start = parse_time(parts[0])
    end = parse_time(parts[1], allow_24=True)
    if end == start:
        raise ValueError(f"{text!r} starts and ends at the same time")
    if end < start:
        end += DAY_MINUTES
    return Window(start, end)


def parse_weekdays(text: str) -> tuple[int, ...]:
    """Parse "mon", "tue-wed", "sat-sun", "mon,wed" or "Monday" into weekday numbers (Monday is 0).

    Each day is a three-letter abbreviation or the full English name, in any letter case.
    Raises ValueError for any other name ("thur", "monkey").
    """
    days: list[int] = []
    for part in str(text).lower().replace(" ", "").split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            a, b = _day(first), _day(last)
            if b < a:
                raise ValueError(f"weekday range {part!r} runs backwards")
            days.extend(range(a, b + 1))
        else:
            days.append(_day(part))
    return tuple(sorted(set(days)))


def _day(name: str) -> int:
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    if name in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(name)
    raise ValueError(f"{name!r} is not a weekday (use mon, tue, wed, thu, fri, sat, sun or the full "
                     "English names)")


def describe_windows(windows: tuple[Window, ...]) -> str:
    """Return "07:00-12:00, 13:00-16:30", or "closed" for no windows."""
    return ", ".join(str(w) for w in windows) if windows else "closed"
