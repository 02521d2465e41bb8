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
from ivr.cli.common import CliError, add_config_arg, fail, normalise
from ivr.config import ConfigErrors, load_config

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("calls", help="list logged calls (newest first)")
    parser.add_argument("--since", help="ISO time (UTC when no offset) or an age like 30m, 12h, 7d, 2w")
    parser.add_argument("--line", help="only calls to this hotline (any of its numbers, E.164 or as dialled)")
    add_config_arg(parser)
    parser.add_argument("--limit", type=int, default=200, help="at most this many calls (default 200)")
    parser.add_argument("--json", action="store_true", help="print a JSON array of call records")
    parser.add_argument("--redis-url", help="Redis URL (default: $REDIS_URL)")
    parser.add_argument("--spool-dir", help="spool directory (default: $HOTLINE_SPOOL_DIR, else the one of the "
                                            "deployment serving --config with this Redis)")
    parser.set_defaults(run=run)


def since_of(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """Return --since as an aware datetime; raises CliError for text that is neither ISO nor an age."""
    if not text:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    match = _RELATIVE.match(text.strip())
    if match:
        return now - dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--since {text!r} is neither an ISO time nor an age like 12h or 7d") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def line_of(typed: str, config_path: str | None) -> str:
    """Return the number calls of hotline `typed` are logged under (its first number, E.164).

    The config (--config, $HOTLINE_CONFIG or the embedded default) knows the numbers as dialled and
    every inbound number; without a usable config, `typed` is only normalised.
    """
    try:
        hotline = load_config(config_path or os.environ.get("HOTLINE_CONFIG") or None).find(typed)
    except ConfigErrors:
        hotline = None
    return hotline.line if hotline is not None else normalise(typed)


def run(args: argparse.Namespace) -> int:
    try:
        since = since_of(args.since)
    except CliError as exc:
        return fail(exc)
    url = args.redis_url or os.environ.get("REDIS_URL") or None
    spool_dir = args.spool_dir or default_dir(args.config or os.environ.get("HOTLINE_CONFIG") or None, url)
    store = CallStore(connect_redis(url), Spool(spool_dir))
    lines = [line_of(args.line, args.config)] if args.line else None
    code = 0
    try:
        records = store.recent(lines, since, limit=max(1, args.limit))
    except redis.RedisError as exc:
        print(f"hotline: Redis unreachable ({exc}); showing only calls waiting in the spool {store.spool.dir}",
              file=sys.stderr)
        records, code = store.spooled(lines, since)[: args.limit], 1
    if url is None:
        print(f"hotline: REDIS_URL not set; showing calls from the spool {store.spool.dir}", file=sys.stderr)
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
