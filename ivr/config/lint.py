"""Warnings for configs that load but probably do not do what the admin meant.

`hotline check` prints them with file:line and field; they never stop a config from loading.
"""
from __future__ import annotations

from ivr.config import schema as s
from ivr.config.notify_build import notify_warnings

Path = tuple[str | int, ...]


def warnings_for(spec: s.HotlineSpec) -> list[tuple[Path, str]]:
    """Return (field path, message) for each suspicious part of a valid hotline spec."""
    found: list[tuple[Path, str]] = []
    options = list(s.menu_options(spec.menu))
    reached = {o.service for o, _ in options if o.service}
    for sid in spec.services:
        if sid not in reached:
            found.append((("services", sid), "no menu option leads to this service"))
    used_schedules: set[str] = set()
    used_targets: set[str] = set()
    for sid, svc in spec.services.items():
        used_targets.add(svc.default)
        seen: set[str] = set()
        for i, rule in enumerate(svc.rules):
            used_targets.add(rule.target)
            used_schedules.add(rule.while_)
            if rule.while_ in seen:
                found.append((("services", sid, "rules", i, "while"),
                               f"an earlier rule already uses {rule.while_!r}, so this one is never reached"))
            seen.add(rule.while_)
    for name in spec.schedules:
        if name not in used_schedules:
            found.append((("schedules", name), "no service rule uses this schedule"))
    for name, target in spec.targets.items():
        if name not in used_targets:
            found.append((("targets", name), "no service uses this target"))
        for i, step in enumerate(target.steps):
            if step.screen and len(step.call) > 1:
                found.append((("targets", name, "steps", i, "call"),
                               "several screened numbers ring together: the first to pick up (even a voicemail "
                               "box) cancels the others; consider one step each"))
    has_staff = spec.outages is not None and spec.outages.staff is not None
    staff_options = [path for option, path in options if option.staff]
    for path in staff_options:
        if not has_staff:
            found.append((path, "staff entry without outages.staff: callers will hear it is not available"))
    if has_staff and not staff_options:
        found.append((("outages", "staff"), "no menu option has 'staff: true', so staff cannot declare by phone"))
    return found + notify_warnings(spec)

