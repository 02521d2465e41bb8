"""`hotline probe`: a real test call to a hotline, checked against `hotline route` for its moment."""
from __future__ import annotations

import argparse
import json
import os

import redis

from ivr.calls.spool import Spool, default_dir
from ivr.calls.store import CallStore, connect_redis
from ivr.cli import redis_env
from ivr.cli.common import CliError, add_config_arg, fail, load, pick_line
from ivr.menus.nav import walk
from ivr.probe.expect import parse_keys
from ivr.probe.place import run_probe
from ivr.probe.results import save_result


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("probe", help="place a test call to a hotline and check the route it took")
    add_config_arg(parser)
    parser.add_argument("--line", help="the hotline's inbound number (default: every hotline with a probe: section)")
    parser.add_argument("--keys", help="key entries, one per prompt, e.g. 1,153#,1 (default: the probe's keys)")
    parser.add_argument("--url", help="the app's public URL Twilio posts to (default $PUBLIC_BASE_URL)")
    parser.add_argument("--redis-url", help="the app's Redis (default $REDIS_URL)")
    parser.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the call to end (default 180)")
    parser.add_argument("--json", action="store_true", help="print a JSON array of results")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ivr.sms.twilio_rest import TwilioConfigError, client_from_env

    try:
        config = load(args)
        hotlines = [pick_line(config, args.line)] if args.line else [h for h in config.lines() if h.probe]
        if not hotlines:
            raise CliError("no hotline in this config has a probe: section (see docs/probe.md)")
        for hotline in hotlines:
            if hotline.probe is None:
                raise CliError(f"{hotline.line} has no probe: section: the app would not know the "
                               "probe's caller number (see docs/probe.md)")
            if args.keys is not None:
                reached = walk(hotline.menu, list(parse_keys(args.keys)))
                if reached.service is None or reached.error:
                    raise CliError(f"keys {args.keys or '(none)'} do not reach a service on {hotline.line}: "
                                   f"{reached.error}")
        base = args.url or os.environ.get("PUBLIC_BASE_URL")
        if not base:
            raise CliError("PUBLIC_BASE_URL is not set: give the app's public URL (--url), where Twilio "
                           "posts the probe's webhooks")
        url = redis_env.required_url(args.redis_url)
        client = redis_env.reachable(url, connect_redis)
        try:
            twilio = client_from_env()
        except TwilioConfigError:
            raise CliError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: the probe places its "
                           "call through Twilio") from None
    except CliError as exc:
        return fail(exc)
    store = CallStore(client, Spool(default_dir(args.config or os.environ.get("HOTLINE_CONFIG") or None, url)))
    results = []
    try:
        for hotline in hotlines:
            keys = parse_keys(args.keys) if args.keys is not None else hotline.probe.keys
            result = run_probe(hotline, keys, twilio, client, store, base, wait=args.wait)
            save_result(client, hotline.line, result.to_dict())
            results.append(result)
            if not args.json:
                print(result.summary())
    except redis.RedisError as exc:
        return fail(CliError(redis_env.failed(url, exc, "during the probe"), 1))
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
    return 0 if all(r.ok for r in results) else 1
