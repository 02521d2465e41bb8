"""Helpers shared by the CLI subcommands: config loading, line choice, moments."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from ivr import numbers
from ivr.config import Config, ConfigErrors, load_config
from ivr.hotline import Hotline


class CliError(Exception):
    """A message for the admin and an exit code; printed to stderr by the subcommand."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH",
                        help="hotline YAML file or directory (default: $HOTLINE_CONFIG, else the embedded default)")


def load(args: argparse.Namespace) -> Config:
    """Return the config named by --config, $HOTLINE_CONFIG or the embedded default.

    Raises CliError (exit 2) listing every config error.
    """
    path = getattr(args, "config", None) or os.environ.get("HOTLINE_CONFIG") or None
    try:
        return load_config(path)
    except ConfigErrors as exc:
        raise CliError("config refused:\n" + "\n".join(f"  {e}" for e in exc.errors)) from None


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
    """Return --at as an aware datetime; without an offset it is the hotline's local time."""
    if not text:
        return dt.datetime.now(hotline.tz)
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--at {text!r} is not an ISO time like 2026-12-24T23:30") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=hotline.tz)
    return at


def fail(exc: CliError) -> int:
    print(f"hotline: {exc}", file=sys.stderr)
    return exc.code
