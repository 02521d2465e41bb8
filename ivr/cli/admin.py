"""`hotline admin add|passwd|list|remove` (console accounts) and `hotline audit` (what was done in the console).

Accounts live in Redis (REDIS_URL). Passwords are read from a prompt without echo, or from the
first line of stdin with --password-stdin; only their argon2 hashes are stored.
Exit codes: 0 done, 1 could not (Redis down, unknown account), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys

import redis as redis_lib

from ivr.cli.common import CliError, fail


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("admin", help="console accounts: add, passwd, list, remove")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("add", help="create a console account")
    p.add_argument("user")
    p.add_argument("--role", choices=("admin", "responder"), default="responder",
                   help="responder: outages and calls; admin: also the config pages (default responder)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(run=run_add)
    p = verbs.add_parser("passwd", help="set a console account's password")
    p.add_argument("user")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(run=run_passwd)
    p = verbs.add_parser("list", help="list console accounts and their roles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_list)
    p = verbs.add_parser("remove", help="delete a console account")
    p.add_argument("user")
    p.set_defaults(run=run_remove)
    audit = sub.add_parser("audit", help="what was changed in the admin console, by whom and when (newest first)")
    audit.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")
    audit.add_argument("--json", action="store_true", help="print a JSON array")
    audit.set_defaults(run=run_audit)


def _redis() -> redis_lib.Redis:
    from ivr.sms.jobs import redis_from_env

    client = redis_from_env()
    try:
        client.ping()
    except redis_lib.RedisError as exc:
        raise CliError(f"cannot reach Redis at REDIS_URL ({exc}); nothing was changed", 1) from None
    return client


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CliError("the two passwords differ", 2)
    return first


def _store():
    from ivr.console.accounts import AccountStore

    return AccountStore(_redis())


def _run(action) -> int:
    from ivr.console.accounts import AccountError

    try:
        return action()
    except CliError as exc:
        return fail(exc)
    except AccountError as exc:
        return fail(CliError(str(exc), 1))
    except redis_lib.RedisError as exc:
        return fail(CliError(f"Redis failed ({exc})", 1))


def run_add(args: argparse.Namespace) -> int:
    from ivr.console.accounts import AccountError, Role, check_name, check_password

    def add() -> int:
        try:
            name = check_name(args.user)
            password = check_password(_password(args))
        except AccountError as exc:
            raise CliError(str(exc), 2) from None
        account = _store().add(name, password, Role(args.role), dt.datetime.now(dt.timezone.utc))
        print(f"account {account.name} added ({account.role.value})")
        return 0

    return _run(add)


def run_passwd(args: argparse.Namespace) -> int:
    from ivr.console.accounts import AccountError, check_name, check_password

    def passwd() -> int:
        try:
            name = check_name(args.user)
            password = check_password(_password(args))
        except AccountError as exc:
            raise CliError(str(exc), 2) from None
        _store().set_password(name, password)
        print(f"password of {name} changed")
        return 0

    return _run(passwd)


def run_list(args: argparse.Namespace) -> int:
    def listing() -> int:
        accounts = _store().list()
        if args.json:
            print(json.dumps([{"user": a.name, "role": a.role.value, "created_at": a.created_at} for a in accounts],
                             indent=2))
            return 0
        if not accounts:
            print("no console accounts (add one with `hotline admin add USER --role admin`)")
        for a in accounts:
            print(f"{a.name:<24} {a.role.value:<10} created {a.created_at}")
        return 0

    return _run(listing)


def run_remove(args: argparse.Namespace) -> int:
    def remove() -> int:
        _store().remove(args.user)
        print(f"account {args.user.strip().lower()} removed")
        return 0

    return _run(remove)


def run_audit(args: argparse.Namespace) -> int:
    from ivr.console import audit

    def show() -> int:
        if not 1 <= args.limit <= audit.KEEP:
            raise CliError(f"--limit must be between 1 and {audit.KEEP}")
        found = audit.entries(_redis(), args.limit)
        if args.json:
            print(json.dumps(found, ensure_ascii=False, indent=2))
            return 0
        if not found:
            print("no console changes recorded")
        for e in found:
            print(f"{e['at']}  {e['who']:<16} {e['address']:<15} {e['action']:<16} {e['detail']}")
        return 0

    return _run(show)
