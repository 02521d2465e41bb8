"""`hotline outage declare|restore|list|show|hash-pin`: outages from the admin's shell.

Redis comes from REDIS_URL (required, see ivr.cli.redis_env); Twilio settings from the
environment (see ivr.sms.twilio_rest). Exit codes: 0 done (also "already open": nothing sent
twice), 1 could not (no open outage, Redis down, no sender), 2 bad arguments or config.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
import warnings

import redis as redis_lib

from ivr.cli import redis_env
from ivr.cli.common import CliError, add_config_arg, count, fail, load, pick_line
from ivr.config import sms_texts
from ivr.outages import pins


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("outage", help="declare, restore, list and show outages (SMS blasts to the sites)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, text in (("declare", "open an outage and text the sites (once)"),
                       ("restore", "close the open outage and text 'restored'")):
        p = verbs.add_parser(verb, help=text)
        add_config_arg(p)
        p.add_argument("--line", help="the hotline's number (needed when the config has several)")
        p.add_argument("--system", required=True, help="system id from the config's systems:")
        if verb == "declare":
            p.add_argument("--message", default="", help="free text for the {message} placeholder")
        p.add_argument("--by", default=None, help="who does this (default: your login name)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.set_defaults(run=run_declare if verb == "declare" else run_restore)
    p = verbs.add_parser("list", help="list a hotline's outages, newest first")
    add_config_arg(p)
    p.add_argument("--line")
    p.add_argument("--open", action="store_true", help="only open outages")
    p.add_argument("--limit", type=count, default=50, help="at most this many outages (default 50)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_list)
    p = verbs.add_parser("show", help="one outage with every blast and, per recipient, SID and status")
    p.add_argument("id")
    add_config_arg(p)  # accepted for symmetry with the other verbs; outage ids are unique per Redis
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_show)
    p = verbs.add_parser("resend", help="send an outage's blasts again to recipients that gave up (once each)")
    p.add_argument("id")
    p.add_argument("--blast", metavar="BID", help="only this blast of the outage (e.g. outage-7-down)")
    p.add_argument("--by", default=None, help="who does this (default: your login name)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run_resend)
    p = verbs.add_parser("hash-pin", help="make the pin_hash for outages.staff (reads the PIN without echo)")
    p.add_argument("--stdin", action="store_true", help="read the PIN from the first line of stdin")
    p.set_defaults(run=run_hash_pin)


def _redis(changes: bool) -> tuple[redis_lib.Redis, str]:
    """Return (a client that answered, its URL); raises CliError naming the URL.

    `changes`: the command writes, so an unreachable Redis means nothing was changed.
    """
    url = redis_env.required_url()
    return redis_env.reachable(url, then="; nothing was changed" if changes else ""), url


def _half_way(url: str | None, exc: redis_lib.RedisError) -> CliError:
    """Return the exit-1 error of a change Redis failed half-way through (repeating it completes it)."""
    return CliError(f"{redis_env.failed(url, exc, 'half-way')}; run the same command again to complete it", 1)


def _by(args: argparse.Namespace) -> str:
    if args.by:
        return args.by
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _local(moment: dt.datetime, hotline) -> str:
    """Return `moment` as the hotline's local time, e.g. "2026-11-22 01:44 CET"."""
    return f"{moment.astimezone(hotline.tz):%Y-%m-%d %H:%M %Z}"


def _act(args: argparse.Namespace, verb: str) -> int:
    from ivr.outages import service

    try:
        hotline = pick_line(load(args), args.line)
        try:
            service.check_system(hotline, args.system)  # a bad argument, found before Redis is asked
        except service.OutageError as exc:
            raise CliError(str(exc)) from None
        too_long = sms_texts.declare_problem(hotline, args.message, args.system) if verb == "declare" else None
        if too_long:
            raise CliError(too_long)
        client, url = _redis(changes=True)
        now = dt.datetime.now(dt.timezone.utc)
        if verb == "declare":
            result = service.declare(client, hotline, args.system, args.message, _by(args), now)
        else:
            result = service.restore(client, hotline, args.system, _by(args), now)
    except CliError as exc:
        return fail(exc)
    except service.OutageError as exc:
        return fail(CliError(str(exc), 1))
    except redis_lib.RedisError as exc:
        return fail(_half_way(url, exc))
    o = result.outage
    if args.json:
        print(json.dumps({**o.to_json(), "changed": result.changed, "blasts": list(result.blasts)},
                         ensure_ascii=False, indent=2))
        return 0
    if verb == "declare" and not result.changed:
        print(f"outage {o.id}: {o.system} on {o.line} is already open since {_local(o.declared_at, hotline)};"
              " no SMS sent again" + (" (completed an unfinished blast)" if result.blasts else ""))
    elif verb == "declare":
        print(f"outage {o.id}: {o.system} on {o.line} declared; blast {', '.join(result.blasts) or 'none'} queued")
    else:
        print(f"outage {o.id}: {o.system} on {o.line} restored; blasts {', '.join(result.blasts) or 'none'} queued")
    return 0


def run_declare(args: argparse.Namespace) -> int:
    return _act(args, "declare")


def run_restore(args: argparse.Namespace) -> int:
    return _act(args, "restore")


def run_list(args: argparse.Namespace) -> int:
    from ivr.outages.model import OutageState
    from ivr.outages.store import OutageStore

    try:
        hotline = pick_line(load(args), args.line)
        client, url = _redis(changes=False)
        outages = OutageStore(client).list(hotline.line, args.limit)
    except CliError as exc:
        return fail(exc)
    except redis_lib.RedisError as exc:
        return fail(CliError(redis_env.failed(url, exc), 1))
    if args.open:
        outages = [o for o in outages if o.state is OutageState.OPEN]
    if args.json:
        print(json.dumps({"line": hotline.line, "outages": [o.to_json() for o in outages]},
                         ensure_ascii=False, indent=2))
        return 0
    if not outages:
        print(f"no outages on {hotline.line}")
    for o in outages:
        until = f" until {_local(o.restored_at, hotline)}" if o.restored_at else ""
        print(f"{o.id:>5}  {o.state.value:<8}  {o.system:<12} since {_local(o.declared_at, hotline)}{until}"
              f"  {o.message}")
    return 0


def show(client: redis_lib.Redis, outage_id: str) -> dict | None:
    """Return an outage with its blasts, per-recipient SID and last status, and linked calls."""
    from ivr.outages.report import show as report

    return report(client, outage_id)


def run_show(args: argparse.Namespace) -> int:
    try:
        client, url = _redis(changes=False)
        data = show(client, args.id)
    except CliError as exc:
        return fail(exc)
    except redis_lib.RedisError as exc:
        return fail(CliError(redis_env.failed(url, exc), 1))
    if data is None:
        return fail(CliError(f"no outage {args.id}", 1))
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"outage {data['id']}: {data['system']} on {data['line']}, {data['state']}, declared {data['declared_at']}"
          f" by {data['declared_by']}" + (f", restored {data['restored_at']}" if data["restored_at"] else ""))
    for b in data["blasts"]:
        print(f"  blast {b['id']}: {b['sent']} sent, {b['failed']} failed, {b['total'] - b['done']} to go")
        for r in b["recipients"]:
            print(f"    {r['to']:<16} {r['state']:<8} {r['sid'] or '-':<34} {r['status'] or '-'}"
                  + (f"  error {r['error_code']}" if r["error_code"] and r["state"] == "failed" else ""))
    if data["calls"]:
        print(f"  calls: {', '.join(data['calls'])}")
    return 0


def run_hash_pin(args: argparse.Namespace) -> int:
    if args.stdin:
        pin = sys.stdin.readline().strip()
    else:
        try:
            with warnings.catch_warnings():  # without a terminal getpass says "may be echoed" itself
                warnings.simplefilter("ignore", getpass.GetPassWarning)
                pin = getpass.getpass("PIN (4-12 digits): ")
                if not pins.PIN.match(pin):
                    return fail(CliError("a PIN is 4 to 12 digits", 2))
                again = getpass.getpass("again: ")
        except EOFError:
            print(file=sys.stderr)
            return fail(CliError("no PIN given (end of input); type it at the prompt, or use --stdin", 2))
        if again != pin:
            return fail(CliError("the two PINs differ", 2))
    try:
        print(pins.hash_pin(pin))
    except ValueError as exc:
        return fail(CliError(str(exc), 2))
    return 0


def run_resend(args: argparse.Namespace) -> int:
    """Queue blasts again for recipients that gave up; prints how many per blast."""
    from ivr.outages import resend, service

    by, now, url = _by(args), dt.datetime.now(dt.timezone.utc), None
    try:
        client, url = _redis(changes=True)
        done = resend.resend(client, args.id, by, now, args.blast)
    except CliError as exc:
        return fail(exc)
    except service.OutageError as exc:
        return fail(CliError(str(exc), 1))
    except redis_lib.RedisError as exc:
        return fail(_half_way(url, exc))
    if args.json:
        print(json.dumps({"outage": args.id, "by": by, "at": now.isoformat(timespec="seconds"),
                          "queued": sum(len(r.numbers) for r in done), "blasts": [r.to_json() for r in done]},
                         ensure_ascii=False, indent=2))
        return 0
    total = sum(len(r.numbers) for r in done)
    print(f"outage {args.id}: {total} recipient{'' if total == 1 else 's'} that gave up queued again")
    for r in done:
        print(f"  blast {r.blast_id}: " + (f"skipped ({r.skipped})" if r.skipped else f"{len(r.numbers)} queued again"))
    return 0
