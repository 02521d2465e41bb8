"""Helpers shared by the CLI subcommands: config loading, line choice, moments."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from ivr import numbers
from ivr.config import Config, ConfigErrors, load_config
from ivr.hotline import Hotline


# Moments and weeks the CLI accepts: far enough for any real plan, near enough that a year of
# schedules and the next change after a moment never leave what datetime can hold.
FIRST_YEAR, LAST_YEAR = 1970, 2199


class CliError(Exception):
    """A message for the admin and an exit code; printed to stderr by the subcommand.

    `errors` carries the config errors behind a refused config (for `check --json`).
    """

    def __init__(self, message: str, code: int = 2, errors: tuple = ()):
        super().__init__(message)
        self.code = code
        self.errors = tuple(errors)


def count(text: str) -> int:
    """Return `text` as a whole number of 1 or more (an argparse type for --limit and the like)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of 1 or more")
    return int(text)


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH",
                        help="hotline YAML file or directory (default: $HOTLINE_CONFIG, else the embedded default)")


def load(args: argparse.Namespace) -> Config:
    """Return the config named by --config, $HOTLINE_CONFIG or the embedded default.

    Raises CliError (exit 2) listing every config error.
    """
    option = getattr(args, "config", None)
    path = option or os.environ.get("HOTLINE_CONFIG") or None
    try:
        return load_config(path)
    except ConfigErrors as exc:
        origin = "" if option or path is None else f" (HOTLINE_CONFIG={path})"
        raise CliError(f"config refused{origin}:\n" + "\n".join(f"  {e}" for e in exc.errors),
                       errors=exc.errors) from None


def quiet_app(config: Config, **options):
    """Return ivr.app.create_app(config, **options) without the app's start-up notes (console off,
    Redis not set, ...), which are for a server's log, not for the admin at a command, and without
    making the spool directory (a command run as another user would make it its own)."""
    import logging

    from ivr.app import create_app

    ivr_log = logging.getLogger("ivr")
    level = ivr_log.level
    ivr_log.setLevel(logging.ERROR)
    try:
        return create_app(config, make_spool=False, **options)
    finally:
        ivr_log.setLevel(level)


def pick_line(config: Config, line: str | None) -> Hotline:
    """Return the hotline for --line (any format of its number), or the only one there is."""
    if line:
        hotline = config.find(line)
        if hotline is None:
            known = ", ".join(h.line for h in config.lines())
            raise CliError(f"no hotline with number {line} (known: {known})")
        return hotline
    lines = config.lines()
    if len(lines) != 1:
        raise CliError("several hotlines in this config: choose one with --line " +
                       ", ".join(h.line for h in lines))
    return lines[0]


def normalise(number: str) -> str:
    """Return `number` as E.164 when it parses (with or without +), else unchanged."""
    return numbers.normalise(number)


def moment(text: str | None, hotline: Hotline) -> dt.datetime:
    """Return --at as an aware datetime; without an offset it is the hotline's local time.

    Raises CliError (exit 2) for text that is not ISO, a year outside FIRST_YEAR..LAST_YEAR, and a
    local time that the clock change skips (naming the moments around the jump) or passes twice
    (naming both readings, to be given with an explicit offset).
    """
    if not text:
        return dt.datetime.now(hotline.tz)
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--at {text!r} is not an ISO time like 2026-12-24T23:30") from None
    in_range("--at", text, at.date())
    if at.tzinfo is not None:
        return at
    return local_moment(text, at, hotline.tz)


def local_moment(text: str, wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Return the naive local time `wall` in `tz`; raises CliError when it does not exist or is ambiguous."""
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    zone = getattr(tz, "key", str(tz))
    if _round_trips(first) or _round_trips(second):
        early, late = sorted((first, second), key=lambda m: m.astimezone(dt.timezone.utc))
        raise CliError(f"--at {text} happens twice in {zone} (the clocks go back): give the offset, "
                       f"{_iso(early)} (the first) or {_iso(late)} (the second)")
    jump = _transition(first, second)
    before, after = (jump - dt.timedelta(minutes=1)).astimezone(tz), jump.astimezone(tz)
    skipped_from = after.replace(tzinfo=None) - (after.utcoffset() - before.utcoffset())
    raise CliError(f"--at {text} does not exist in {zone}: the clocks jump from {skipped_from:%H:%M} to "
                   f"{after:%H:%M} ({_iso(before)} is followed by {_iso(after)}); give a time before or after the jump")


def _round_trips(at: dt.datetime) -> bool:
    """Return True when the aware local `at` names a real moment (its wall time survives UTC and back)."""
    back = at.astimezone(dt.timezone.utc).astimezone(at.tzinfo)
    return back.replace(tzinfo=None) == at.replace(tzinfo=None)


def _transition(first: dt.datetime, second: dt.datetime) -> dt.datetime:
    """Return the UTC instant of the clock change between the two readings of a skipped wall time."""
    low, high = sorted((first.astimezone(dt.timezone.utc), second.astimezone(dt.timezone.utc)))
    offset = low.astimezone(first.tzinfo).utcoffset()
    while high - low > dt.timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(first.tzinfo).utcoffset() == offset:
            low = mid
        else:
            high = mid
    return high.replace(microsecond=0)


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="minutes")


def in_range(option: str, text: str, *days: dt.date) -> None:
    """Raise CliError (exit 2) unless every one of `days` lies in FIRST_YEAR..LAST_YEAR."""
    if any(not FIRST_YEAR <= day.year <= LAST_YEAR for day in days):
        raise CliError(f"{option} {text} is out of range: give one between {FIRST_YEAR} and {LAST_YEAR}")


def spool_dir_usable(path: str | os.PathLike, option: str | None = None) -> None:
    """Raise CliError (exit 2) when the spool directory `path` exists but is not a directory, naming
    where it came from (--spool-dir `option`, $HOTLINE_SPOOL_DIR or the deployment's default)."""
    if os.path.exists(path) and not os.path.isdir(path):
        name = "--spool-dir" if option else "HOTLINE_SPOOL_DIR" if os.environ.get("HOTLINE_SPOOL_DIR") else \
            "the spool directory"
        raise CliError(f"{name} {path} is not a directory")


def fail(exc: CliError) -> int:
    print(f"hotline: {exc}", file=sys.stderr)
    return exc.code
