"""`hotline route`: where a call goes at a moment after some key entries, without a call."""
from __future__ import annotations

import argparse
import json

from ivr.cli.common import CliError, add_config_arg, fail, load, moment, pick_line
from ivr.menus.nav import walk
from routing import decide


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("route", help="who takes a call at a moment after these key entries")
    add_config_arg(parser)
    parser.add_argument("--at", help="ISO time; without an offset it is the hotline's local time (default: now)")
    parser.add_argument("--keys", default="", help="key entries, one per prompt, e.g. 1,153#,1")
    parser.add_argument("--line", help="the hotline's inbound number (needed when the config has several)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load(args)
        hotline = pick_line(config, args.line)
        at = moment(args.at, hotline)
        entries = [e for e in args.keys.split(",") if e.strip()] if args.keys else []
        result = walk(hotline.menu, entries)
        if result.service is None or result.error:
            raise CliError(f"keys {args.keys or '(none)'} do not reach a service on {hotline.line}: {result.error}")
    except CliError as exc:
        return fail(exc)
    decision = decide(hotline.plan, result.service, at)
    if args.json:
        out = decision.to_dict()
        out["keys"] = entries
        out["said"] = list(result.said)
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"{hotline.line} {hotline.name}")
    print(f"at      {decision.at.isoformat()}")
    print(f"keys    {','.join(entries) or '(none)'} -> {decision.service} ({decision.service_name})")
    for said in list(result.said) + list(decision.announcements):
        print(f"says    {said}")
    print(f"route   {decision.route.value}: {decision.target_name}")
    for i, step in enumerate(decision.steps, 1):
        screened = ", screened" if step.screen else ""
        who = ", ".join(f"{name} {number}" if name != number else number
                        for name, number in zip(step.names, step.numbers))
        print(f"step {i}  {who} (rings {step.timeout}s{screened})")
    ex = decision.exhausted
    print(f"then    {ex.kind.value}" + (f" {ex.number}" if ex.number else "") + (f": {ex.message}" if ex.message else ""))
    print(f"reason  {decision.reason}")
    print(f"next    {decision.next_change.isoformat() if decision.next_change else 'no change within a year'}")
    print(f"config  {decision.config_version}")
    return 0
