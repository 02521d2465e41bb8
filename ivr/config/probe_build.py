"""Build the `probe:` section into a ProbePolicy, recording problems on the Builder."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ivr.config.schema import ProbeSpec
from ivr.hotline import Contact, Site
from ivr.menus.model import Menu
from ivr.probe.expect import default_keys, parse_keys
from ivr.probe.model import ProbePolicy
from ivr.menus.nav import walk
from schedules.clock import parse_time

if TYPE_CHECKING:
    from ivr.config.build import Builder


def build_probe(builder: Builder, spec: ProbeSpec | None, contacts: dict[str, Contact],
                menu: Menu | None, sites: dict[str, tuple[Site, ...]] | None = None) -> ProbePolicy | None:
    """Return the hotline's ProbePolicy, or None when the file has no `probe:` section.

    A probe number that is also a contact's or a site's is refused: that caller's real calls would
    be taken for test calls and never reach anyone.
    """
    if spec is None:
        return None
    base = ("probe",)
    callers = tuple(builder.number(n, base + ("callers", i)) for i, n in enumerate(spec.callers))
    people = {c.number: f"contact {c.id}" for c in contacts.values()}
    people.update({s.number: f"site {s.name}" for group in (sites or {}).values() for s in group})
    for i, number in enumerate(callers):
        if number and number in people:
            builder.fail(base + ("callers", i), f"{number} is the number of {people[number]}: calls from it "
                                                "would be taken for test calls; give the probe a number of its own")
    admins = tuple(builder.party(ref, base + ("admins", i), contacts)[0] for i, ref in enumerate(spec.admins))
    daily_at = None
    if spec.daily_at is not None:
        try:
            minutes = parse_time(spec.daily_at)
            daily_at = dt.time(minutes // 60, minutes % 60)
        except ValueError as exc:
            builder.fail(base + ("daily_at",), str(exc))
    keys: tuple[str, ...] = ()
    if menu is not None:
        if spec.keys is not None:
            keys = parse_keys(spec.keys)
            reached = walk(menu, list(keys))
            if reached.service is None or reached.error:
                builder.fail(base + ("keys",), f"keys {spec.keys!r} do not reach a service: {reached.error}")
        else:
            found = default_keys(menu)
            if found is None:
                builder.fail(base + ("keys",), "no service is reached without a code: give the keys to press")
            keys = found or ()
    return ProbePolicy(callers=callers, keys=keys, admins=admins, daily_at=daily_at)
