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
        if hotline.notify is not None:
            print(f"  notify (missed calls): {notify_chain(hotline.notify.default) or 'no default'}")
            for tid, levels in hotline.notify.targets.items():
                print(f"    target {tid}: {notify_chain(levels)}")
        sites = hotline.all_sites()
        if sites:
            print(f"  sites: {len(sites)} phone(s) in {', '.join(hotline.sites)}")
        if hotline.probe:
            probe = hotline.probe
            when = f"daily at {probe.daily_at:%H:%M}" if probe.daily_at else "by hand only"
            print(f"  probe: from {', '.join(probe.callers)} pressing {','.join(probe.keys)}, {when}; "
                  f"texts {', '.join(probe.admins) or 'nobody'} when it fails")
    return 0


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def notify_chain(levels) -> str:
    """Return notify lists as "A + B -10m-> C (again every 15m)"."""
    out = ""
    for i, level in enumerate(levels):
        out += " + ".join(level.names)
        if level.renotify_after and i + 1 < len(levels):
            out += f" -{_minutes(level.renotify_after)}-> "
        elif level.renotify_after:
            out += f" (again every {_minutes(level.renotify_after)})"
    return out


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
        "notify": None if hotline.notify is None else {
            "default": [lv.to_dict() for lv in hotline.notify.default],
            "targets": {t: [lv.to_dict() for lv in levels] for t, levels in hotline.notify.targets.items()},
        },
        "warnings": list(hotline.warnings),
    }
