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
    parser.add_argument("--svg", metavar="FILE",
                        help="write the week as an SVG picture instead (one hotline: give --line when there are several; "
                             "with --weeks N, FILE gets -1, -2, ... before .svg)")
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
        if args.svg:
            return write_svg(args.svg, pick_line(config, args.line), monday, args.weeks)
    except CliError as exc:
        return fail(exc)
    for hotline in hotlines:
        for week in range(args.weeks):
            print_week(hotline, monday + week * 7 * _DAY)
    return 0


def write_svg(path: str, hotline: Hotline, monday: dt.date, weeks: int) -> int:
    """Write the week picture(s) of `hotline` (ivr.week_svg); raises CliError (exit 1) when FILE cannot be written."""
    from ivr import week_svg

    stem = path[:-4] if path.endswith(".svg") else path
    for week in range(weeks):
        name = path if weeks == 1 else f"{stem}-{week + 1}.svg"
        try:
            with open(name, "w", encoding="utf-8") as out:
                out.write(week_svg.render(hotline, monday + week * 7 * _DAY) + "\n")
        except OSError as exc:
            raise CliError(f"cannot write {name}: {exc.strerror}", 1) from None
        print(f"wrote {name}")
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
    from ivr.week_svg import day_notes

    notes = day_notes(hotline, day, [service])
    return f"  [{' / '.join(notes)}]" if notes else ""
