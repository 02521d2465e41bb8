"""`hotline serve`: a development server for the voice webhooks (no Twilio account, no Redis needed).

Signatures stay checked: without TWILIO_AUTH_TOKEN the server uses the development token
DEV_TOKEN, which `hotline call --url` also uses. `--insecure` turns the check off (logged loudly).
`--at ISO` starts the server's clock at that moment (it then runs on), to rehearse a night or a
holiday. Without Redis (no --redis-url, REDIS_URL unset, or --no-redis), call records are only spooled to
HOTLINE_SPOOL_DIR, and the banner says so; with one, they are spooled while it is unreachable and
flushed once it answers.
For production use the Procfile's gunicorn line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import errno
import logging
import os
import shlex
import shutil
import socket
import sys
import time
from typing import Callable
from urllib.parse import urlsplit

from ivr.calls.spool import default_dir as spool_default_dir
from ivr.calls.store import connect_redis
from ivr.cli import redis_env
from ivr.cli.common import CliError, add_config_arg, fail, load, moment, spool_dir_usable

DEV_TOKEN = "hotline-development-token"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="development server for the voice webhooks (no Redis or Twilio needed)")
    add_config_arg(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port, help="port (default $PORT or 5000)")
    parser.add_argument("--redis-url", help="Redis URL (default $REDIS_URL; none: records are spooled)")
    parser.add_argument("--no-redis", action="store_true", help="ignore REDIS_URL: spool call records only")
    parser.add_argument("--public-url", help="the URL Twilio uses (default $PUBLIC_BASE_URL, else http://HOST:PORT)")
    parser.add_argument("--at", metavar="ISO",
                        help="start the server's clock at this moment and let it run on (rehearse a night or a "
                             "holiday); without an offset it is the first hotline's local time")
    parser.add_argument("--insecure", action="store_true",
                        help="turn the X-Twilio-Signature check off (development only; logged loudly)")
    parser.set_defaults(run=run)


def port(text: str) -> int:
    """Return `text` as a TCP port; raises argparse.ArgumentTypeError when it is not 1-65535."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (1-65535)")
    return int(text)


def port_from_env() -> int:
    """Return $PORT, else 5000; raises CliError (exit 2) when $PORT is not a port."""
    text = os.environ.get("PORT") or "5000"
    try:
        return port(text)
    except argparse.ArgumentTypeError:
        raise CliError(f"PORT {text!r} is not a port (1-65535)") from None


def public_url(option: str | None) -> str | None:
    """Return --public-url, else $PUBLIC_BASE_URL, else None; raises CliError (exit 2) when it is not
    an http(s) URL (signatures would never match it)."""
    name, url = ("--public-url", option) if option else ("PUBLIC_BASE_URL", os.environ.get("PUBLIC_BASE_URL") or None)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"{name} {url!r} is not an http(s) URL like https://hotline.example.org")
    return url


def check_listen(host: str, port: int) -> None:
    """Return when host:port can be bound (as the server will bind it); raises CliError (exit 1)
    saying why not, so a taken port is said in one line before the banner."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
            probe.bind(address)
    except OSError as exc:
        hint = ("another program listens there: stop it or choose another --port" if exc.errno == errno.EADDRINUSE
                else "give --host an address of this machine, e.g. 127.0.0.1 or 0.0.0.0")
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; {hint}", 1) from None


def command_name() -> str:
    """Return how the user can run this CLI again ("hotline", or the path that was used)."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "hotline"
    if os.path.basename(argv0) == "hotline" and shutil.which("hotline") != os.path.abspath(argv0):
        return os.path.relpath(argv0) if not os.path.isabs(argv0) else argv0
    return "hotline" if os.path.basename(argv0) == "hotline" else f"{sys.executable} -m ivr.cli"


def calls_command(me: str, args: argparse.Namespace, redis_url: str | None, spool_dir) -> str:
    """Return the `hotline calls` command that lists this server's calls (its deployment's spool and
    Redis), typed in a shell with the same environment."""
    words = [me, "calls"]
    if args.config:
        words += ["--config", args.config]
    if args.redis_url and redis_url:
        words += ["--redis-url", redis_env.mask(redis_url)]
    elif redis_url is None and os.environ.get("REDIS_URL"):  # --no-redis: the spool alone
        words += ["--spool-dir", str(spool_dir)]
    return " ".join(shlex.quote(word) for word in words)


def running_clock(start: dt.datetime) -> Callable[[], dt.datetime]:
    """Return a clock (aware UTC datetimes) that reads `start` now and runs on at the real pace."""
    origin = time.monotonic()
    start = start.astimezone(dt.timezone.utc)
    return lambda: start + dt.timedelta(seconds=time.monotonic() - origin)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load(args)
        clock = running_clock(moment(args.at, config.lines()[0])) if args.at else None
        if args.port is None:
            args.port = port_from_env()
        redis_url = None if args.no_redis else redis_env.url_from(args.redis_url)
        if redis_url:  # refuse a URL that is not one before serving
            redis_env.client(redis_url, connect_redis, redis_env.source(args.redis_url))
        spool_dir_usable(spool_default_dir(config.source, redis_url))  # $HOTLINE_SPOOL_DIR or its own
        public = public_url(args.public_url)
        check_listen(args.host, args.port)
    except CliError as exc:
        return fail(exc)
    from ivr.app import create_app, state_of

    token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_TOKEN
    wildcard = args.host in ("0.0.0.0", "::", "")
    shown = f"http://{'127.0.0.1' if wildcard else args.host}:{args.port}"
    # Without a public URL, signatures are checked against the URL each request arrives on, so
    # a server bound to every address accepts calls signed for any of them.
    app = create_app(config, redis_url=redis_url, auth_token=token, public_base_url=public,
                     verify_signatures=not args.insecure, now=clock)
    state = state_of(app)
    me = command_name()
    print(f"Outage hotline (development server) on http://{args.host}:{args.port}")
    print(f"  config   {config.source} (version {config.version})")
    for hotline in config.lines():
        print(f"  line     {hotline.line}  {hotline.name}")
    if clock is not None:
        print(f"  clock    started at {clock().astimezone(config.lines()[0].tz).isoformat(timespec='seconds')}"
              " and running (--at): calls are routed and logged at that time")
    if redis_url:
        print(f"  redis    {redis_env.mask(redis_url)}; call records spool to {state.spool_dir} "
              "while it is unreachable")
    else:
        why = "--no-redis" if args.no_redis else "REDIS_URL is not set"
        print(f"  redis    none ({why}): call records only spool to {state.spool_dir}")
    print(f"  calls    {calls_command(me, args, redis_url, state.spool_dir)}")
    hooks = public or shown
    print(f"  webhooks {hooks}/voice (fallback: {hooks}/voice/fallback, status: {hooks}/voice/status)")
    if args.insecure:
        print("  SIGNATURE CHECK OFF (--insecure): never expose this server")
    elif token == DEV_TOKEN:
        print("  signatures are checked with the development token (set TWILIO_AUTH_TOKEN for a real account)")
    first = config.lines()[0].line
    print("\nTry a call from another terminal (you press the keys and play the people who are rung):")
    print(f"  {me} call --url {shown} --line {first}")
    print(f"or without a server:  {me} call --line {first} --at 2026-12-24T22:00\n")
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0
