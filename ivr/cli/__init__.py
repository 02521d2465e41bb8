"""`hotline` command line: each subcommand lives in its own module with register(subparsers)."""
from __future__ import annotations

import argparse
import importlib
import sys

# Modules of ivr.cli that each add one or more subcommands.
COMMANDS = ("check", "route", "schedule", "outage", "worker", "calls", "call", "serve", "admin")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="hotline", description="Outage hotline for municipal care.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"ivr.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 bad config or arguments)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
