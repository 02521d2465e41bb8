"""`hotline check`: validate the config and list hotlines, services and numbers."""
from __future__ import annotations

import argparse
import json

from ivr.cli.common import CliError, add_config_arg, fail, load
from ivr.config.errors import ConfigError
from ivr.hotline import Hotline


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="validate the config; exit 0 when good, 2 when refused")
    add_config_arg(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load(args)
    except CliError as exc:
        if args.json:
            print(json.dumps({"ok": False, "errors": [refusal(e) for e in exc.errors]}, ensure_ascii=False, indent=2))
        return fail(exc)
    hotlines = config.lines()
    if args.json:
        print(json.dumps({"ok": True, "version": config.version, "hotlines": [summary(h) for h in hotlines]},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"config OK: {config.source} (version {config.version}), {len(hotlines)} hotline(s)")
    for hotline in hotlines:
        for warning in hotline.warnings:
            print(f"warning: {warning}")
    for hotline in hotlines:
        print()
        print(f"{hotline.line}  {hotline.name}")
        print(f"  file: {hotline.source}")
        print(f"  numbers: {', '.join(hotline.numbers)}; {hotline.country} {hotline.tz.key}; "
              f"{hotline.language} voice {hotline.voice}; fallback {hotline.fallback}")
        for service in hotline.plan.services.values():
            print(f"  service {service.id}: {service.name}")
            for rule in service.rules:
                print(f"    while {rule.schedule.label}: {_target(rule.target)}")
            print(f"    otherwise: {_target(service.default)}")
        sites = hotline.all_sites()
        if sites:
            print(f"  sites: {len(sites)} phone(s) in {', '.join(hotline.sites)}")
        if hotline.probe:
            probe = hotline.probe
            when = f"daily at {probe.daily_at:%H:%M}" if probe.daily_at else "by hand only"
            print(f"  probe: from {', '.join(probe.callers)} pressing {','.join(probe.keys)}, {when}; "
                  f"texts {', '.join(probe.admins) or 'nobody'} when it fails")
    return 0


def _target(target) -> str:
    chain = " -> ".join("+".join(step.numbers) for step in target.steps) or "no one"
    end = target.exhausted
    then = f"{end.kind.value} {end.number}" if end.number else end.kind.value
    return f"{target.name} [{target.kind.value}] {chain}; then {then}"


def refusal(error: ConfigError) -> dict:
    """Return one config error as {"file", "line" (None when unknown), "field", "message"}."""
    return {"file": error.file, "line": error.line, "field": error.path, "message": error.message}


def summary(hotline: Hotline) -> dict:
    """Return a JSON-ready summary of a hotline's services and numbers."""
    return {
        "line": hotline.line,
        "numbers": list(hotline.numbers),
        "name": hotline.name,
        "file": hotline.source,
        "version": hotline.version,
        "services": {
            sid: {
                "name": svc.name,
                "rules": [{"while": r.schedule.name, "target": r.target.id} for r in svc.rules],
                "default": svc.default.id,
            }
            for sid, svc in hotline.plan.services.items()
        },
        "sites": [site.number for site in hotline.all_sites()],
        "warnings": list(hotline.warnings),
    }
