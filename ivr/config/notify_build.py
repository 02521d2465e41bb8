"""Build the `notify:` lists into a NotifyPolicy, and warn about numbers that cannot get an SMS.

Problems are recorded on the Builder (file, line, field path like the rest of the config).
"""
from __future__ import annotations

from typing import Protocol

import phonenumbers

from ivr.config.notify_schema import NotifyLevelSpec
from ivr.hotline import Contact
from ivr.incidents.model import NotifyLevel, NotifyPolicy

Path = tuple[str | int, ...]


class Builder(Protocol):
    """What this module needs of ivr.config.build.Builder (named here, so no import circle)."""

    def fail(self, path: Path, message: str) -> None: ...

    def party(self, ref: str, path: Path, contacts: dict[str, Contact]) -> tuple[str, str]: ...

EMPTY = "an empty notify list: a missed call would reach no one (name someone, or leave notify: out)"
SMS_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _levels(builder: Builder, specs: list[NotifyLevelSpec], path: Path,
            contacts: dict[str, Contact]) -> tuple[NotifyLevel, ...]:
    if not specs:
        builder.fail(path, EMPTY)
    out = []
    for i, level in enumerate(specs):
        if not level.to:
            builder.fail(path + (i, "to"), EMPTY)
        parties = [builder.party(ref, path + (i, "to", j), contacts) for j, ref in enumerate(level.to)]
        out.append(NotifyLevel(tuple(n for n, _ in parties), tuple(m for _, m in parties), level.renotify_after))
    return tuple(out)


def build_notify(builder: Builder, spec, contacts: dict[str, Contact]) -> NotifyPolicy | None:
    """Return the hotline's NotifyPolicy (`spec`: an ivr.config.schema.HotlineSpec), or None when
    neither the hotline nor a target has `notify:`."""
    default = _levels(builder, spec.notify, ("notify",), contacts) if spec.notify is not None else ()
    targets = {tid: _levels(builder, t.notify, ("targets", tid, "notify"), contacts)
               for tid, t in spec.targets.items() if t.notify is not None}
    if spec.notify is None and not targets:
        return None
    return NotifyPolicy(default, targets)


def notify_warnings(spec) -> list[tuple[Path, str]]:
    """Return (field path, message) for notify numbers that are not mobile numbers, and for
    targets whose missed calls would page no one while others do."""
    found: list[tuple[Path, str]] = []
    lists = [(("notify",), spec.notify)] if spec.notify else []
    lists += [(("targets", tid, "notify"), t.notify) for tid, t in spec.targets.items() if t.notify]
    for path, levels in lists:
        for i, level in enumerate(levels):
            for j, ref in enumerate(level.to):
                number = spec.contacts[ref].number if ref in spec.contacts else ref
                try:
                    parsed = phonenumbers.parse(str(number), spec.hotline.country)
                except phonenumbers.NumberParseException:
                    continue  # the build reports it
                kind = phonenumbers.number_type(parsed)
                if kind not in SMS_TYPES:
                    name = phonenumbers.PhoneNumberType.to_string(kind)
                    found.append((path + (i, "to", j),
                                  f"{ref} ({number}) is not a mobile number ({name}): it may never get the SMS"))
    if not lists:
        found.append((("notify",), "no notify: lists: a call nobody takes reaches no one "
                      "(see docs/incidents.md)"))
    elif spec.notify is None:
        for tid, target in spec.targets.items():
            if target.notify is None:
                found.append((("targets", tid), "no notify list here and no hotline default: "
                              "a missed call to this target reaches no one"))
    return found
