"""Warnings for configs that load but probably do not do what the admin meant.

`hotline check` prints them with file:line and field; they never stop a config from loading.
"""
from __future__ import annotations

import re

from ivr.config import schema as s
from ivr.config import sms_texts
from ivr.hotline import Contact
from ivr.config.notify_build import notify_warnings

Path = tuple[str | int, ...]


def warnings_for(spec: s.HotlineSpec, contacts: dict[str, Contact] | None = None) -> list[tuple[Path, str]]:
    """Return (field path, message) for each suspicious part of a valid hotline spec (and its
    built contacts, whose numbers are E.164)."""
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
    found += same_numbers(contacts or {})
    found += unmentioned_keys(spec.menu)
    found += sms_texts.warnings(spec)
    found += notify_warnings(spec)
    return found


def same_numbers(contacts: dict[str, Contact]) -> list[tuple[Path, str]]:
    """Return a warning for each contact whose number an earlier contact already has."""
    first: dict[str, str] = {}
    found: list[tuple[Path, str]] = []
    for cid, contact in contacts.items():
        if contact.number in first:
            found.append((("contacts", cid, "number"),
                          f"same number as contacts.{first[contact.number]} ({contact.number}): a copy-paste "
                          "slip? One number is one contact; give its roles as targets"))
        first.setdefault(contact.number, cid)
    return found


def unmentioned_keys(menu: s.MenuSpec, path: Path = ("menu",)) -> list[tuple[Path, str]]:
    """Return a warning for each digit key of a menu (or submenu) whose prompt does not contain that
    digit on its own ("tryk 2", "press 2", "2 for ..."; the 2 of "112" does not count).

    Staff entries are left out of the prompt on purpose and never warned about.
    """
    menus = [(menu, path)] + [(o.menu, where + ("menu",)) for o, where in s.menu_options(menu, path) if o.menu]
    found: list[tuple[Path, str]] = []
    for m, where in menus:
        for key, option in m.options.items():
            if key.isdigit() and not option.staff and not re.search(rf"(?<!\d){key}(?!\d)", m.prompt):
                found.append((where + ("options", key),
                              f"the prompt never mentions key {key} (no digit {key} on its own in it): callers "
                              "will not know to press it"))
    return found
