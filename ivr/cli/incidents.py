"""`hotline incidents [show|ack|resolve]`: the incident log from the admin's shell.

`hotline incidents` lists (newest first, as a table or --json); `show ID` prints one with its
history and who was paged; `ack ID --by NAME` takes a missed one on (the others paged are told,
re-notification stops); `resolve ID [--note TEXT]` closes one. An incident number is per hotline:
with several hotlines having that number, choose with --line. Redis comes from REDIS_URL.
Exit codes: 0 done, 1 could not (unknown incident, already taken, Redis down), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys

import redis as redis_lib

from ivr.cli.calls import line_of, since_of
from ivr.cli.common import CliError, fail
from ivr.incidents.model import IncidentState

STATES = [s.value for s in IncidentState]
def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Add --line, --json, --redis-url, --config; on a verb they keep what was given before it."""
    keep = {"default": argparse.SUPPRESS} if suppress else {}
    parser.add_argument("--line", help="the hotline (any of its numbers, E.164 or as dialled)", **keep)
    parser.add_argument("--json", action="store_true", help="print JSON", **keep)
    parser.add_argument("--redis-url", help="Redis URL (default: $REDIS_URL)", **keep)
    parser.add_argument("--config", metavar="PATH", help="hotline YAML file or directory (to read --line)", **keep)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("incidents", help="list, show, acknowledge and resolve incidents (missed calls)")
    _common(parser, False)
    parser.add_argument("--state", choices=STATES, help="only incidents in this state")
    parser.add_argument("--since", help="ISO time (UTC when no offset) or an age like 30m, 12h, 7d")
    parser.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    parser.set_defaults(run=run_list)
    verbs = parser.add_subparsers(dest="verb", required=False, metavar="[show|ack|resolve]",
                                  help="without one: list incidents, newest first")
    p = verbs.add_parser("show", help="one incident: its call, history and who was paged (delivery status)")
    p.add_argument("id", type=int)
    _common(p, True)
    p.set_defaults(run=run_show)
    p = verbs.add_parser("ack", help="take a missed incident on (stops re-notification, tells the others)")
    p.add_argument("id", type=int)
    p.add_argument("--by", required=True, help="who takes it on (a name)")
    _common(p, True)
    p.set_defaults(run=run_ack)
    p = verbs.add_parser("resolve", help="close an incident, with an optional note")
    p.add_argument("id", type=int)
    p.add_argument("--note", default="", help="what was done")
    p.add_argument("--by", default=None, help="who closes it (default: your login name)")
    _common(p, True)
    p.set_defaults(run=run_resolve)


def _redis(args: argparse.Namespace) -> redis_lib.Redis:
    url = getattr(args, "redis_url", None) or os.environ.get("REDIS_URL")
    if not url:
        raise CliError("REDIS_URL is not set: incidents live in Redis (or give --redis-url)", 2)
    client = redis_lib.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis_lib.RedisError as exc:
        raise CliError(f"cannot reach Redis ({exc}); nothing was read or changed", 1) from None
    return client


def _line(args: argparse.Namespace) -> str | None:
    typed = getattr(args, "line", None)
    return line_of(typed, getattr(args, "config", None)) if typed else None


def full(client: redis_lib.Redis, line: str, number: int) -> dict | None:
    """Return an incident as the JSON output shows it (with `notified`), or None."""
    from ivr.incidents.listing import full as full_incident

    return full_incident(client, line, number)


def _pick(client: redis_lib.Redis, args: argparse.Namespace) -> tuple[str, int]:
    from ivr.incidents.store import IncidentStore

    found = IncidentStore(client).find(args.id, _line(args))
    if not found:
        raise CliError(f"no incident {args.id}" + (f" on {_line(args)}" if _line(args) else ""), 1)
    if len(found) > 1:
        raise CliError(f"incident {args.id} exists on several hotlines: choose one with --line "
                       + ", ".join(line for line, _ in found), 2)
    return found[0]


def run_list(args: argparse.Namespace) -> int:
    from ivr.incidents.listing import recent

    try:
        since = since_of(args.since)
        client = _redis(args)
        out = recent(client, _line(args), since, args.state, args.limit, detailed=args.json)
    except CliError as exc:
        return fail(exc)
    except redis_lib.RedisError as exc:
        return fail(CliError(f"Redis failed while reading ({exc})", 1))
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not out:
        print("no incidents")
        return 0
    print(f"{'#':>5} {'line':14} {'started (UTC)':19} {'state':12} {'service':14} {'from':14} who")
    for i in out:
        started = (i.get("started_at") or "")[:19].replace("T", " ")
        who = i.get("resolved_by") or i.get("acknowledged_by") or i.get("answered_by") or ""
        notes = " ".join(x for x in (who, "voicemail" if i.get("recording_url") else "") if x)
        print(f"{i['id']:>5} {i['line']:14} {started:19} {i['state']:12} {(i.get('service') or '-'):14} "
              f"{(i.get('from') or '-'):14} {notes}".rstrip())
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        client = _redis(args)
        line, number = _pick(client, args)
        incident = full(client, line, number)
    except CliError as exc:
        return fail(exc)
    except redis_lib.RedisError as exc:
        return fail(CliError(f"Redis failed while reading ({exc})", 1))
    if getattr(args, "json", False):
        print(json.dumps(incident, ensure_ascii=False, indent=2))
        return 0
    print(f"incident {number} on {line} ({incident.get('hotline') or '-'}): {incident['state']}")
    caller = incident.get("from") or "-"
    if incident.get("caller_name"):
        caller = f"{incident['caller_name']} {caller}"
    print(f"  call      {incident['call_sid']} from {caller} at {incident.get('started_at')}")
    print(f"  service   {incident.get('service_name') or incident.get('service') or '-'}; outcome "
          f"{incident.get('outcome') or '-'}" + (f"; outage {incident['outage_id']}" if incident.get("outage_id") else ""))
    if incident.get("recording_url"):
        print(f"  voicemail {incident['recording_url']}")
    for step in incident.get("history") or []:
        note = f" ({step['note']})" if step.get("note") else ""
        print(f"  {step.get('at')}  {step.get('state'):12} {step.get('by') or ''}{note}".rstrip())
    for sent in incident.get("notified") or []:
        print(f"  sms {sent['message']:6} {sent['to']:14} {sent.get('at') or '-':25} "
              f"{sent.get('status') or sent.get('state') or '-'}")
    return 0


def _change(args: argparse.Namespace, verb: str) -> int:
    from ivr.incidents import service

    now = dt.datetime.now(dt.timezone.utc)
    try:
        client = _redis(args)
        line, number = _pick(client, args)
        if verb == "ack":
            change = service.acknowledge(client, line, number, args.by, now)
        else:
            change = service.resolve(client, line, number, args.by or _login(), now, args.note)
    except CliError as exc:
        return fail(exc)
    except redis_lib.RedisError as exc:
        return fail(CliError(f"Redis failed ({exc}); run the command again to complete it", 1))
    if getattr(args, "json", False):
        print(json.dumps({"status": change.status, "by": change.by, "count": change.count,
                          "incident": full(client, line, number)}, ensure_ascii=False, indent=2))
        return 0 if change.status == "ok" else 1
    if change.status == "ok":
        if verb == "ack":
            more = f" with {change.count - 1} other call(s) of the same alert" if change.count > 1 else ""
            print(f"incident {number} on {line} acknowledged by {change.by}{more}; re-notification stopped")
        else:
            print(f"incident {number} on {line} resolved by {change.by}")
        return 0
    reasons = {"already": f"was already taken by {change.by}", "answered": f"was answered by {change.by or '?'}",
               "resolved": f"is already resolved (by {change.by or '?'})", "missing": "is gone"}
    print(f"hotline: incident {number} on {line} {reasons.get(change.status, change.status)}", file=sys.stderr)
    return 1


def run_ack(args: argparse.Namespace) -> int:
    return _change(args, "ack")


def run_resolve(args: argparse.Namespace) -> int:
    return _change(args, "resolve")


def _login() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"
