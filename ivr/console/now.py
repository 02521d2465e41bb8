"""Who answers each service now, until when, and who next: the answer `hotline route` gives.

Pure reading of the config (no Flask, no Redis): keys come from the menu (ivr.menus.nav), the
decision from routing.decide, as `hotline route --keys K --at T` computes them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.hotline import Hotline
from ivr.menus import nav
from ivr.menus.model import Menu
from routing import decide
from routing.model import Decision


@dataclass(frozen=True)
class ServiceNow:
    """One service at a moment: the keys that reach it, the decision, and who answers after `until`."""

    service: str
    name: str
    keys: tuple[str, ...]
    decision: Decision
    next_name: str | None
    next_route: str | None


def service_keys(top: Menu) -> dict[str, tuple[str, ...]]:
    """Return, per service id, the shortest key entries from the top menu that reach it (a code
    entry is passed with its first code, or a bare # where allowed)."""
    found: dict[str, tuple[str, ...]] = {}
    queue: list[tuple[nav.Prompt, tuple[str, ...]]] = [(top, ())]
    seen: set[int] = set()
    while queue:
        node, keys = queue.pop(0)
        if id(node) in seen or len(keys) > 8:
            continue
        seen.add(id(node))
        if isinstance(node, Menu):
            choices = sorted(node.options.items())
        else:
            code = next(iter(sorted(node.codes)), None)
            choices = [(f"{code}#" if code is not None else "#", node.next)]
        for key, option in choices:
            landing = nav.follow(option)
            if landing.final is not None and landing.final.service and landing.final.service not in found:
                found[landing.final.service] = keys + (key,)
            elif landing.prompt is not None:
                queue.append((landing.prompt, keys + (key,)))
    return found


def services_now(hotline: Hotline, at: dt.datetime) -> list[ServiceNow]:
    """Return every service of `hotline` at aware moment `at`, in config order."""
    paths = service_keys(hotline.menu)
    out = []
    for service in hotline.plan.services.values():
        keys = paths.get(service.id, ())
        walked = nav.walk(hotline.menu, list(keys)) if keys else None
        reached = walked is not None and walked.service == service.id and not walked.error
        decision = decide(hotline.plan, service.id, at)
        after = decide(hotline.plan, service.id, decision.next_change) if decision.next_change else None
        out.append(ServiceNow(service.id, service.name, keys if reached else (), decision,
                              after.target_name if after else None, after.route.value if after else None))
    return out


def parse_moment(text: str | None, hotline: Hotline, default: dt.datetime) -> dt.datetime:
    """Return an ISO moment (the hotline's local time when it has no offset), or `default` when empty.

    Raises ValueError for text that is not an ISO time.
    """
    if not text:
        return default
    at = dt.datetime.fromisoformat(text.strip())
    return at.replace(tzinfo=hotline.tz) if at.tzinfo is None else at
