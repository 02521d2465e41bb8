"""Pure opening-hour schedules: weekly windows, public holidays, eves and dated overrides.

Nothing here reads the clock or knows about the web, Redis or Twilio: every question takes the
moment as an aware datetime.
"""
from schedules.calendar import HolidayCalendar
from schedules.clock import WEEKDAYS, Window, parse_weekdays, parse_window
from schedules.schedule import DayPolicy, DayOverride, Schedule, ScheduleState, TimeOverride

__all__ = [
    "WEEKDAYS",
    "DayOverride",
    "DayPolicy",
    "HolidayCalendar",
    "Schedule",
    "ScheduleState",
    "TimeOverride",
    "Window",
    "parse_weekdays",
    "parse_window",
]
