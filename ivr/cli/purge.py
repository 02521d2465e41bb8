"""`hotline purge --number E164 (--dry-run | --yes)`: remove one person's number from Redis on request.

See ivr.privacy.purge for what goes. Exit codes: 0 done (or nothing found), 1 Redis unreachable,
2 bad arguments (no valid number, neither --dry-run nor --yes, a hotline's own number, no Redis URL
or one that is not a Redis URL; the same REDIS_URL rule as every command, see ivr.cli.redis_env).
"""
from __future__ import annotations

import argparse
import os

import redis as redis_lib

from ivr import numbers
from ivr.calls.spool import default_dir
from ivr.cli import redis_env
from ivr.cli.common import CliError, add_config_arg, fail, load, quiet_app
from ivr.privacy.purge import PURGED, Findings, find, is_hotline, purge

_LABELS = {
    "calls_from": "calls from the number (deleted with their events and index entries)",
    "calls_naming": f"other calls naming it (number replaced by {PURGED})",
    "outages": f"outages declared/restored from it by phone (number replaced by {PURGED})",
    "blast_recipients": "SMS blast recipients (deleted, with their message SIDs)",
    "staff_lockouts": "staff PIN lockout counters (deleted)",
    "incidents": f"incidents naming it: caller, who took it, history (number replaced by {PURGED})",
    "notified": "paged-number records: alerts it was paged about (deleted)",
    "settle_marks": f"calls from it waiting to be settled (caller replaced by {PURGED})",
}
_ITEMS = {"calls_from": "calls_from", "calls_naming": "calls_naming", "outages": "outages",
          "blast_recipients": "recipients", "staff_lockouts": "lockouts", "incidents": "incidents",
          "notified": "notified", "settle_marks": "settle_marks"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("purge", help="remove one person's phone number from the call log, outages and SMS blasts")
    parser.add_argument("--number", required=True, help="the person's number in E.164 (+4534412350)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    mode.add_argument("--yes", action="store_true", help="remove it (required to change anything)")
    parser.add_argument("--redis-url", help="Redis URL (default: $REDIS_URL)")
    add_config_arg(parser)
    parser.add_argument("--spool-dir", help="spool directory flushed first (default: $HOTLINE_SPOOL_DIR, else the "
                                            "one of the deployment serving --config with this Redis)")
    parser.set_defaults(run=run)


def _number(text: str) -> str:
    number = numbers.to_e164(text)
    if number is None or not text.strip().startswith(("+", "00")):
        raise CliError(f"--number {text!r} is not a phone number in E.164 (like +4534412350)")
    return number


def _report(found: Findings, dry_run: bool) -> None:
    verb = "would go" if dry_run else "removed"
    print(f"{found.number}: {verb}")
    for kind, count in found.counts().items():
        print(f"  {count:5}  {_LABELS[kind]}")
        if dry_run:
            for item in getattr(found, _ITEMS[kind]):
                print(f"         {item}")
    print("Contact lists and staff callers in the config files are config, not data: "
          "remove the number there by hand if it is listed.")


def _flush_spool(args: argparse.Namespace, url: str) -> int:
    """Replay the spool (and the journals of web processes that died before writing their call
    events) into Redis as a web process's flusher does: through the app of the
    deployment, so the outcome hooks run for what is new (a missed call logged while Redis was
    down gets its incident and its page). Returns how many events went in; raises CliError (2)
    for a refused config."""
    from ivr.app import state_of

    source = args.config or os.environ.get("HOTLINE_CONFIG") or None
    app = quiet_app(load(args), redis_url=url, spool_dir=str(args.spool_dir or default_dir(source, url)))
    store = state_of(app).store
    store.adopt_orphans()   # journals of web processes that died before writing their events
    return store.flush()


def run(args: argparse.Namespace) -> int:
    try:
        number = _number(args.number)
        if not (args.dry_run or args.yes):
            raise CliError("nothing done: add --dry-run to see what would be removed, --yes to remove it")
        url = redis_env.required_url(args.redis_url)
        client = redis_env.client(
            url, lambda u: redis_lib.Redis.from_url(u, decode_responses=True, socket_connect_timeout=2),
            redis_env.source(args.redis_url))
        try:
            if is_hotline(client, number):
                raise CliError(f"{number} is a hotline's own number; purge removes a person's number")
            if not args.dry_run:  # spooled events are data too
                _flush_spool(args, url)
            found = find(client, number)
            _report(found if args.dry_run else purge(client, found), args.dry_run)
        except redis_lib.RedisError as exc:
            raise CliError(f"{redis_env.unreachable(url, exc)}; run the purge again", 1) from None
    except CliError as exc:
        return fail(exc)
    return 0
