"""The SMS texts of the `outages:` section, filled in with their longest plausible values and measured.

Twilio refuses a body over 1,600 characters: such a text is a config error. One that takes more than
QUIET_SEGMENTS segments, or is not GSM-7 (UCS-2 fits 70 characters, not 160, in a segment), costs more
for every recipient: a warning with its segment count. {message} is only known when an outage is
declared, so the config is measured with it empty and `outage declare` checks the real message.
"""
from __future__ import annotations

from collections.abc import Iterable

from ivr.config import schema as s
from ivr.config.outage_schema import OutagesSpec
from ivr.hotline import Hotline
from ivr.outages import texts
from ivr.sms.segments import MAX_CHARS, measure

Path = tuple[str | int, ...]
QUIET_SEGMENTS = 3
LONGEST_E164 = "+" + "9" * 15
# The longest forms the placeholders take (see ivr.outages.texts.fields); {since} carries the date
# when the outage began on another day, {minutes} allows for an outage open for a year or more.
LONGEST = {"since": "24.12.2026 23:59", "time": "23:59", "date": "24.12.2026", "minutes": "999999"}


def longest_values(system_names: Iterable[str], hotline_name: str, line: str, message: str = "") -> dict[str, str]:
    """Return placeholder values at their longest: the longest system name, the given others."""
    return {**LONGEST, "system": max(system_names, key=len, default=""), "hotline": hotline_name, "line": line,
            "message": message}


def filled(template: str, values: dict[str, str]) -> str | None:
    """Return the SMS body `template` becomes, or None when its placeholders are broken (those are
    reported by ivr.config.outage_build.check_text)."""
    try:
        return texts.render(template, values)
    except (KeyError, ValueError, IndexError, AttributeError):
        return None


def spec_templates(outages: OutagesSpec) -> list[tuple[Path, str]]:
    """Return (field path, template) for every SMS text of an `outages:` section spec."""
    base: Path = ("outages",)
    found = [(base + ("texts", "down"), outages.texts.down), (base + ("texts", "restored"), outages.texts.restored)]
    for i, esc in enumerate(outages.escalations):
        found.append((base + ("escalations", i, "text"), esc.text))
        if esc.restore_text:
            found.append((base + ("escalations", i, "restore_text"), esc.restore_text))
    return found


def _spec_values(spec: s.HotlineSpec) -> dict[str, str]:
    return longest_values((x.name for x in spec.systems.values()), spec.hotline.name, LONGEST_E164)


def _filled_texts(spec: s.HotlineSpec):
    """Yield (path, text) of each outage SMS text of `spec` with its placeholders filled in at
    their longest (texts that cannot be filled in are left to the template checks)."""
    if spec.outages is None:
        return
    values = _spec_values(spec)
    for path, template in spec_templates(spec.outages):
        body = filled(template, values)
        if body is not None:
            yield path, body


def problems(spec: s.HotlineSpec) -> list[tuple[Path, str]]:
    """Return (path, message) for each SMS text that is too long for Twilio once filled in."""
    found = []
    for path, body in _filled_texts(spec):
        if len(body) > MAX_CHARS:
            found.append((path, f"{len(body):,} characters once the placeholders are filled in (e.g. {{since}} as "
                                f"{LONGEST['since']!r}); Twilio takes at most {MAX_CHARS:,}: shorten it by "
                                f"{len(body) - MAX_CHARS:,}"))
    return found


def warnings(spec: s.HotlineSpec) -> list[tuple[Path, str]]:
    """Return (path, message) for each SMS text that takes more than QUIET_SEGMENTS segments or is
    not GSM-7, with its segment count."""
    found = []
    for path, body in _filled_texts(spec):
        if len(body) > MAX_CHARS:
            continue
        size = measure(body)
        if size.not_gsm:
            chars = ", ".join(repr(c) for c in size.not_gsm)
            found.append((path, f"not GSM-7 because of {chars}: sent as UCS-2 it takes {size.segments} SMS segments "
                                f"once filled in ({size.units} characters, 67 per segment instead of 153); "
                                "replace those characters"))
        elif size.segments > QUIET_SEGMENTS:
            found.append((path, f"takes {size.segments} SMS segments once filled in (GSM-7, {size.units} septets, "
                                "153 per segment): every recipient is charged per segment"))
    return found


def declare_problem(hotline: Hotline, message: str, system: str | None = None) -> str | None:
    """Return why `message` cannot be declared (an SMS of the hotline would pass Twilio's limit once
    filled in), or None when it fits."""
    if len(message) > MAX_CHARS:
        return f"--message is {len(message):,} characters; an SMS takes at most {MAX_CHARS:,}"
    policy = hotline.outages
    if policy is None:
        return None
    names = [hotline.systems[system]] if system in hotline.systems else hotline.systems.values()
    values = longest_values(names, hotline.name, hotline.line, message)
    bodies = [("outages.texts.down", policy.down_text), ("outages.texts.restored", policy.restored_text)]
    for esc in policy.escalations:
        bodies.append((f"the escalation after {esc.after_minutes} minutes", esc.text))
        if esc.restore_text:
            bodies.append((f"the escalation after {esc.after_minutes} minutes (restore_text)", esc.restore_text))
    for name, template in bodies:
        body = filled(template, values)
        if body is not None and len(body) > MAX_CHARS:
            return (f"--message makes {name} {len(body):,} characters once filled in; an SMS takes at most "
                    f"{MAX_CHARS:,}: shorten the message by {len(body) - MAX_CHARS:,}")
    return None
