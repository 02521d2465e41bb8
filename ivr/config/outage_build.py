"""Build the `outages:` section into an OutagePolicy, recording problems on the Builder.

Numbers are parsed in the hotline's country through the Builder, so every problem carries
the file, the line and the field path like the rest of the config.
"""
from __future__ import annotations

import string
from typing import TYPE_CHECKING

from ivr.config import sms_texts
from ivr.config.outage_schema import OutagesSpec
from ivr.hotline import Contact
from ivr.outages import pins
from ivr.outages.model import PLACEHOLDERS, Escalation, OutagePolicy, StaffEntry

if TYPE_CHECKING:
    from ivr.config.build import Builder, Path


def check_text(builder: Builder, text: str, path: Path) -> None:
    """Record a problem when `text` uses an unknown {placeholder} or bad braces."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        builder.fail(path, f"bad braces in text ({exc}); write {{{{ for a literal brace")
        return
    for name in fields:
        if name not in PLACEHOLDERS:
            builder.fail(path, f"unknown placeholder {{{name}}} (known: {', '.join(PLACEHOLDERS)})")


def build_outages(builder: Builder, spec: OutagesSpec | None, contacts: dict[str, Contact],
                  site_groups: list[str]) -> OutagePolicy | None:
    """Return the hotline's OutagePolicy, or None when the file has no `outages:` section.

    (A menu `staff: true` option without `outages.staff` is allowed: callers hear "not available".)
    """
    if spec is None:
        return None
    if spec.staff is not None and len(builder.spec.systems) > 9:
        builder.fail(("outages", "staff"), "the staff entry offers systems on keys 1-9: at most 9 systems")
    base: Path = ("outages",)
    check_text(builder, spec.texts.down, base + ("texts", "down"))
    check_text(builder, spec.texts.restored, base + ("texts", "restored"))
    if spec.announcement:
        check_text(builder, spec.announcement, base + ("announcement",))
    for path, problem in sms_texts.problems(builder.spec):
        builder.fail(path, problem)
    if spec.groups is not None:
        for i, group in enumerate(spec.groups):
            if group not in site_groups:
                builder.fail(base + ("groups", i),
                             f"unknown site group {group!r} (known: {', '.join(site_groups) or 'none'})")
    if not site_groups:
        builder.fail(base, "outages need a sites: section with the phones to text")
    sender_from = None
    if spec.sender.from_ is not None:
        sender_from = builder.number(spec.sender.from_, base + ("sender", "from"))
    escalations = []
    for i, esc in enumerate(sorted(spec.escalations, key=lambda e: e.after_minutes)):
        path = base + ("escalations", spec.escalations.index(esc))
        parties = [builder.party(ref, path + ("notify", j), contacts) for j, ref in enumerate(esc.notify)]
        check_text(builder, esc.text, path + ("text",))
        if esc.restore_text:
            check_text(builder, esc.restore_text, path + ("restore_text",))
        escalations.append(Escalation(esc.after_minutes, tuple(n for n, _ in parties),
                                      tuple(m for _, m in parties), esc.text, esc.restore_text))
    staff = None
    if spec.staff is not None:
        path = base + ("staff",)
        if not pins.is_valid_hash(spec.staff.pin_hash):
            builder.fail(path + ("pin_hash",),
                         "not a PIN hash: write pbkdf2_sha256$iterations$salt$hash "
                         "(make one with `hotline outage hash-pin`), never the PIN itself")
        callers = tuple(builder.party(ref, path + ("callers", j), contacts)[0]
                        for j, ref in enumerate(spec.staff.callers))
        staff = StaffEntry(callers, spec.staff.pin_hash, spec.staff.max_attempts, spec.staff.lockout_minutes,
                           spec.staff.require_attestation)
    return OutagePolicy(
        down_text=spec.texts.down, restored_text=spec.texts.restored, rate=spec.rate,
        groups=tuple(spec.groups) if spec.groups is not None else None,
        sender_from=sender_from, messaging_service_sid=spec.sender.messaging_service_sid,
        escalations=tuple(escalations), staff=staff, announcement=spec.announcement,
        keep_days=spec.keep_days,
    )
