"""`hotline fake-twilio`: the local Twilio stand-in the test suite uses, as a command.

It speaks Twilio's REST API 2010-04-01 (Messages create/list/fetch, Calls create/fetch) on
127.0.0.1, prints the environment to give `hotline worker` and `hotline outage`, then each message
(and call) it accepts. Every request is checked against Twilio's OpenAPI description when the spec
file is found (--spec, $HOTLINE_TWILIO_SPEC, or shared/ beside the repository); without it the
stand-in runs unchecked and says so. It sends no delivery-status callbacks. A created call is
played against its Url as Twilio would (signed webhooks, SendDigits into the prompts), so
`hotline probe` can be tried against `hotline serve` (see docs/probe.md).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from ivr.cli.common import CliError, fail

DEFAULT_PORT = 5001
DEFAULT_FROM = "+4570112230"  # the Brøndby example's hotline number


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("fake-twilio", help="run a local Twilio stand-in that prints each SMS it gets")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_or_zero, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--spec", metavar="PATH",
                        help="Twilio's OpenAPI file to check requests against (default $HOTLINE_TWILIO_SPEC, "
                             "else shared/twilio/twilio_api_v2010.yaml beside the repository)")
    parser.add_argument("--from", dest="sender", default=DEFAULT_FROM,
                        help=f"the TWILIO_FROM_NUMBER to print (default {DEFAULT_FROM})")
    parser.set_defaults(run=run)


def port_or_zero(text: str) -> int:
    """Return `text` as a TCP port or 0 (any free one); raises argparse.ArgumentTypeError otherwise."""
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0-65535)")
    return int(text)


def _validator(spec: str | None):
    """Return (validator, what it checks) for --spec / $HOTLINE_TWILIO_SPEC / the default path.

    Raises CliError (exit 2) when a spec named by --spec or the environment is missing, or when
    the spec file found cannot be read as YAML.
    """
    import yaml

    from ivr.devtools.twilio_spec import SPEC_ENV, RoutesOnly, load_validator, spec_path

    named = spec or os.environ.get(SPEC_ENV) or None
    path = spec_path() if named is None else named
    try:
        return load_validator(path), f"every request is checked against Twilio's OpenAPI description {path}"
    except FileNotFoundError:
        if named is not None:
            what = "not a file" if os.path.exists(named) else "no such file"
            raise CliError(f"--spec / ${SPEC_ENV}: {what} {named}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, KeyError):
            reason = f"no {exc} in it"
        raise CliError(f"--spec / ${SPEC_ENV}: {path} is not Twilio's OpenAPI description ({reason})") from None
    return RoutesOnly(), (f"requests are NOT checked against Twilio's spec (not found at {path}; "
                          f"give --spec PATH or set {SPEC_ENV})")


def describe(operation_id: str, record: dict) -> str:
    """Return one line for an accepted create: what, sid, to, from (or service) and the body."""
    sender = record.get("from") or f"service {record.get('messaging_service_sid')}"
    if operation_id == "CreateMessage":
        body = json.dumps(record["body"], ensure_ascii=False)
        return f"message {record['sid']} to {record['to']} from {sender}: {body}"
    keys = (record.get("params") or {}).get("SendDigits")
    plays = f": plays {record['url']}" + (f" pressing {keys}" if keys else "") if record.get("url") else ""
    return f"call {record['sid']} to {record['to']} from {sender}{plays}"


def run(args: argparse.Namespace) -> int:
    from ivr.devtools.fake_twilio import FakeTwilio

    try:
        validator, checking = _validator(args.spec)
    except CliError as exc:
        return fail(exc)
    fake = FakeTwilio(validator=validator)
    printing = threading.Lock()

    def say(line: str) -> None:
        with printing:
            print(line, flush=True)

    fake.on_create = lambda operation_id, record: say(describe(operation_id, record))
    fake.on_violation = lambda violation: say(f"REFUSED (Twilio would too): {violation}")
    try:
        fake.start(args.host, args.port)
    except OSError as exc:
        return fail(CliError(f"cannot listen on {args.host}:{args.port}: {exc}", 1))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    say(f"Twilio stand-in (REST API 2010-04-01) on {fake.base_url}\n  {checking}\n"
        "Export these where `hotline worker` and `hotline outage` run:\n"
        f"export TWILIO_API_BASE_URL={fake.base_url}\n"
        f"export TWILIO_ACCOUNT_SID={fake.account_sid}\n"
        f"export TWILIO_AUTH_TOKEN={fake.auth_token}\n"
        f"export TWILIO_FROM_NUMBER={args.sender}\n"
        "Each message is printed as it arrives (Ctrl-C stops).")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0
