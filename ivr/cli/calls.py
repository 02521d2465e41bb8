"""`hotline calls`: the call log (each call an incident), newest first, as a table or JSON."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys

import redis

from ivr.calls.spool import Spool, default_dir
from ivr.calls.store import CallStore, connect_redis
from ivr.cli import redis_env
from ivr.cli.common import CliError, add_config_arg, count, fail, normalise, spool_dir_usable
from ivr.config import ConfigErrors, load_config

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_PHONE_TEXT = re.compile(r"^\s*\+?\(?[0-9][0-9 ()./-]*$")  # a number typed in any usual form
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("calls", help="list logged calls (newest first), or --show one call's timeline",
                            epilog="keys: one entry per prompt; ~ is the menu's default, taken when no usable "
                                   "key came before its retries ran out (shown as \"(no key)\" by --show).")
    parser.add_argument("--since", help="ISO time (UTC when no offset) or an age like 30m, 12h, 7d, 2w")
    parser.add_argument("--line", help="only calls to this hotline (any of its numbers, E.164 or as dialled)")
    add_config_arg(parser)
    parser.add_argument("--limit", type=count, default=200, help="at most this many calls (default 200)")
    parser.add_argument("--json", action="store_true", help="print a JSON array of call records")
    parser.add_argument("--redis-url", help="Redis URL (default: $REDIS_URL)")
    parser.add_argument("--spool-dir", help="spool directory (default: $HOTLINE_SPOOL_DIR, else the one of the "
                                            "deployment serving --config with this Redis)")
    parser.add_argument("--show", metavar="SID", help="one call (CallSid) as a timeline; with --json its record")
    parser.set_defaults(run=run_or_show)


def since_of(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """Return --since as an aware datetime; raises CliError for text that is neither ISO nor an age."""
    if not text:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    match = _RELATIVE.match(text.strip())
    if match:
        try:
            return now - dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError:
            raise CliError(f"--since {text!r} reaches back too far; give an age like 12h or 7d") from None
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--since {text!r} is neither an ISO time nor an age like 12h or 7d") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def line_of(typed: str, config_path: str | None) -> str:
    """Return the number calls of hotline `typed` are logged under (its first number, E.164).

    The config (--config, $HOTLINE_CONFIG or the embedded default) knows the numbers as dialled and
    every inbound number; without a usable config, `typed` is only normalised. Raises CliError
    (exit 2) for text that cannot be a phone number (letters, no digits).
    """
    if not _PHONE_TEXT.match(typed):
        raise CliError(f"--line {typed!r} is not a phone number (the hotline's number, e.g. +4570112230)")
    try:
        hotline = load_config(config_path or os.environ.get("HOTLINE_CONFIG") or None).find(typed)
    except ConfigErrors:
        hotline = None
    return hotline.line if hotline is not None else normalise(typed)


def open_log(args: argparse.Namespace) -> tuple[str | None, redis.Redis | None, Spool]:
    """Return (Redis URL or None, its client or None, the spool) that --redis-url, --spool-dir and
    --config name; the spool defaults to the one of the deployment serving that config with that
    Redis. Raises CliError for a URL that is not one."""
    url = redis_env.url_from(args.redis_url)
    client = redis_env.client(url, connect_redis, redis_env.source(args.redis_url)) if url else None
    spool_dir = args.spool_dir or default_dir(args.config or os.environ.get("HOTLINE_CONFIG") or None, url)
    spool_dir_usable(spool_dir, args.spool_dir)
    return url, client, Spool(spool_dir)


def run(args: argparse.Namespace) -> int:
    try:
        since = since_of(args.since)
        url, client, spool = open_log(args)
        lines = [line_of(args.line, args.config)] if args.line else None
    except CliError as exc:
        return fail(exc)
    store = CallStore(client, spool)
    code = 0
    try:
        records = store.recent(lines, since, limit=args.limit)
    except redis.RedisError as exc:
        print(f"hotline: {redis_env.unreachable(url, exc)}; showing only calls waiting in the spool "
              f"{store.spool.dir}", file=sys.stderr)
        records, code = store.spooled(lines, since)[: args.limit], 1
    if url is None:
        print(f"hotline: REDIS_URL is not set; showing only calls from the spool {store.spool.dir}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return code
    if not records:
        print("no calls")
        return code
    print(f"{'started (UTC)':20} {'line':14} {'from':14} {'keys':10} {'service':16} {'route':13} outcome")
    for r in records:
        started = (r.get("started_at") or "")[:19].replace("T", " ")
        keys = ",".join(r.get("keys") or []) or "-"
        outcome = r.get("outcome") or ""
        if r.get("accepted_by"):
            outcome += f" by {r['accepted_by']}"
        if r.get("recording_url"):
            outcome += f" {r['recording_url']}"
        print(f"{started:20} {r.get('line') or '-':14} {r.get('from') or '-':14} {keys:10} "
              f"{r.get('service') or '-':16} {r.get('route') or '-':13} {outcome}")
    return code


def run_or_show(args: argparse.Namespace) -> int:
    """Run `hotline calls --show SID` when asked for one call, else the list."""
    return run_show(args) if args.show is not None else run(args)


def hotline_of(line: str | None, config_path: str | None):
    """Return the Hotline that logs calls under `line` from the config, or None (no usable config)."""
    if not line:
        return None
    try:
        return load_config(config_path or os.environ.get("HOTLINE_CONFIG") or None).find(line)
    except ConfigErrors:
        return None


def run_show(args: argparse.Namespace) -> int:
    """Print one call's timeline (or its record with --json); exit 1 when the call is unknown."""
    from ivr.calls.spool import valid_sid
    from ivr.calls.timeline import timeline

    sid = args.show.strip()
    if not valid_sid(sid):
        return fail(CliError(f"{args.show!r} is not a CallSid (letters and digits, like CA0123...)", 2))
    try:
        url, client, spool = open_log(args)
    except CliError as exc:
        return fail(exc)
    code = 0
    if client is None:
        print(f"hotline: REDIS_URL is not set; looking in the spool {spool.dir} only", file=sys.stderr)
    else:
        try:
            client.ping()
        except redis.RedisError as exc:
            print(f"hotline: {redis_env.unreachable(url, exc)}; looking in the spool {spool.dir} only",
                  file=sys.stderr)
            client, code = None, 1
    record = CallStore(client, spool).record(sid)
    if record is None:
        where = "the call log or the spool" if client is not None else f"the spool {spool.dir}"
        return fail(CliError(f"no call {sid} in {where}", 1))
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return code
    print("\n".join(timeline(record, hotline_of(record.get("line"), args.config))))
    return code
