"""`hotline` command line: each subcommand lives in its own module with register(subparsers)."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

# Modules of ivr.cli that each add one or more subcommands.
COMMANDS = ("check", "route", "schedule", "outage", "worker", "calls", "call", "serve", "purge",
            "fake_twilio", "incidents", "admin", "probe")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="hotline", description="Outage hotline for municipal care.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"ivr.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 bad config or arguments).

    Each subcommand reports the failures it expects in one line. Anything else is a bug: it is
    printed as one line too ("hotline: internal error: ..."), exit 1, with the traceback only
    when HOTLINE_DEBUG is set.
    """
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args) or 0)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("\nhotline: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the admin's terminal
        if os.environ.get("HOTLINE_DEBUG"):
            traceback.print_exc()
        else:
            print(f"hotline: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                  "(set HOTLINE_DEBUG=1 to see the traceback)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
