"""`hotline schedule`: for each service, who answers when over a week (or several)."""
from __future__ import annotations

import argparse
import datetime as dt

from ivr.cli.common import CliError, add_config_arg, fail, in_range, load, pick_line
from ivr.hotline import Hotline
from routing.timeline import segments

_DAY = dt.timedelta(days=1)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("schedule", help="who answers when, per service, over a week")
    add_config_arg(parser)
    parser.add_argument("--week", help="ISO week like 2026-W52 (default: this week)")
    parser.add_argument("--weeks", type=int, default=1, help="how many weeks from --week (default 1)")
    parser.add_argument("--line", help="only this hotline (default: all in the config)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load(args)
        hotlines = [pick_line(config, args.line)] if args.line else config.lines()
        monday = _monday(args.week)
        if not 1 <= args.weeks <= 104:
            raise CliError("--weeks must be between 1 and 104")
        shown = (args.week or "(this week)") + (f" --weeks {args.weeks}" if args.weeks > 1 else "")
        in_range("--week", shown, monday)
        in_range("--week", shown, monday + (args.weeks * 7 - 1) * _DAY)
    except CliError as exc:
        return fail(exc)
    for hotline in hotlines:
        for week in range(args.weeks):
            print_week(hotline, monday + week * 7 * _DAY)
    return 0


def _monday(week: str | None) -> dt.date:
    if not week:
        today = dt.date.today()
        return today - today.weekday() * _DAY
    try:
        year, num = week.upper().split("-W")
        return dt.date.fromisocalendar(int(year), int(num), 1)
    except (ValueError, OverflowError):
        raise CliError(f"--week {week!r} is not an ISO week like 2026-W52") from None


def print_week(hotline: Hotline, monday: dt.date) -> None:
    """Print one week's table for every service of `hotline`."""
    year, num, _ = monday.isocalendar()
    sunday = monday + 6 * _DAY
    print(f"{hotline.line}  {hotline.name}  week {year}-W{num:02d} "
          f"({monday:%a %d %b} - {sunday:%a %d %b %Y}, {hotline.tz.key})")
    for service in hotline.plan.services.values():
        print(f"  {service.id}: {service.name}")
        for offset in range(7):
            day = monday + offset * _DAY
            start = dt.datetime.combine(day, dt.time(), hotline.tz)
            parts = [
                f"{seg.start:%H:%M}-{_end(seg.end, day)} {seg.target.name} [{seg.target.kind.value}]"
                for seg in segments(hotline.plan, service.id, start, start + _DAY)
            ]
            print(f"    {day:%a %d %b}  " + "; ".join(parts) + _notes(hotline, service, day))
    print()


def _end(end: dt.datetime, day: dt.date) -> str:
    return "24:00" if end.date() > day else f"{end:%H:%M}"


def _notes(hotline: Hotline, service, day: dt.date) -> str:
    notes: list[str] = []
    holiday = hotline.calendar.name(day)
    if holiday:
        notes.append(holiday)
    elif hotline.calendar.eve_of(day):
        notes.append(f"eve of {hotline.calendar.eve_of(day)}")
    for rule in service.rules:
        for override in rule.schedule.day_overrides:
            if override.covers(day) and override.name not in notes:
                notes.append(override.name)
        for timed in rule.schedule.time_overrides:
            if timed.start.date() <= day <= timed.end.date() and timed.name not in notes:
                notes.append(timed.name)
    return f"  [{' / '.join(notes)}]" if notes else ""
