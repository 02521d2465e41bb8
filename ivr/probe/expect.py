"""What a probe call should do (as `hotline route` says) and how a logged probe call differs.

Pure: no web, Redis or Twilio; the moment is given.
"""
from __future__ import annotations

import datetime as dt

from ivr.hotline import Hotline
from ivr.menus.model import Menu, OptionKind
from ivr.menus.nav import follow, walk
from routing import decide

# Fields of a decision that decide where the call goes; a difference in any of them fails a probe.
ROUTE_FIELDS = ("service", "route", "target", "dial", "exhausted")


class NoService(ValueError):
    """The keys do not reach a service (the message says why)."""


def parse_keys(text: str) -> tuple[str, ...]:
    """Return key entries from "1,153#,1" (one per prompt; blanks dropped)."""
    return tuple(e.strip() for e in text.split(",") if e.strip())


def default_keys(menu: Menu) -> tuple[str, ...] | None:
    """Return the first key entries (lowest keys first) that reach a service without typing a code,
    or None when every service sits behind a code entry."""
    for key in sorted(menu.options):
        landing = follow(menu.options[key])
        final = landing.final
        if final is not None and final.kind is OptionKind.SERVICE:
            return (key,)
        if isinstance(landing.prompt, Menu):
            deeper = default_keys(landing.prompt)
            if deeper is not None:
                return (key,) + deeper
    return None


def expected(hotline: Hotline, keys: tuple[str, ...], at: dt.datetime) -> dict:
    """Return what a call pressing `keys` at `at` should do: keys, menu path, the decision's route
    fields and the config version. Raises NoService when the keys reach no service."""
    reached = walk(hotline.menu, list(keys))
    if reached.service is None or reached.error:
        raise NoService(f"keys {','.join(keys) or '(none)'} do not reach a service on {hotline.line}: "
                        f"{reached.error}")
    decision = decide(hotline.plan, reached.service, at).to_dict()
    return {"keys": list(reached.path), **{f: decision[f] for f in ROUTE_FIELDS},
            "config_version": decision["config_version"], "at": decision["at"]}


def logged(record: dict) -> dict:
    """Return the same fields as `expected` from a call record of the call log."""
    decision = record.get("decision") or {}
    return {"keys": list(record.get("keys") or []), "service": record.get("service"),
            **{f: decision.get(f) for f in ROUTE_FIELDS if f != "service"},
            "config_version": decision.get("config_version"), "at": decision.get("at")}


def differences(want: dict, got: dict) -> list[str]:
    """Return one line per field where the logged call differs from what routing expects
    (keys, service, route, target, dial, exhausted); [] when the call went as expected."""
    out = []
    for field in ("keys",) + ROUTE_FIELDS:
        if want.get(field) != got.get(field):
            out.append(f"{field}: expected {_show(want.get(field))}, the call had {_show(got.get(field))}")
    return out


def _show(value) -> str:
    if isinstance(value, list) and all(isinstance(v, list) for v in value):
        return " then ".join("+".join(step) for step in value) or "(none)"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(none)"
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    return "(none)" if value is None else str(value)
