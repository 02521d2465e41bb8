"""Frozen routing types: targets with escalation chains, services with schedule rules, decisions."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

from schedules import Schedule


class RouteKind(str, Enum):
    """Who takes a call."""

    SERVICE_DESK = "service_desk"
    ON_CALL = "on_call"
    EMERGENCY = "emergency"
    CLOSED = "closed"


class ExhaustedKind(str, Enum):
    """What happens when every step of an escalation chain went unanswered."""

    VOICEMAIL = "voicemail"
    DIAL = "dial"
    MESSAGE = "message"


@dataclass(frozen=True)
class Step:
    """One escalation step: these numbers ring together for `timeout` seconds.

    `screen` means the callee hears what the call is about and must press 1 to accept.
    `names` are the contacts' names, for logs and screens (same order as `numbers`).
    """

    numbers: tuple[str, ...]
    timeout: int = 25
    screen: bool = False
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exhausted:
    """The end of a chain: voicemail (recording), one more number, or a spoken message."""

    kind: ExhaustedKind
    number: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Target:
    """Who answers: a named escalation chain of a route kind."""

    id: str
    name: str
    kind: RouteKind
    steps: tuple[Step, ...] = ()
    exhausted: Exhausted = Exhausted(ExhaustedKind.MESSAGE)
    announcement: str | None = None


@dataclass(frozen=True)
class Rule:
    """While `schedule` is open, `target` answers."""

    schedule: Schedule
    target: Target


@dataclass(frozen=True)
class Service:
    """What a caller can reach from the menu: ordered rules, then a default target."""

    id: str
    name: str
    rules: tuple[Rule, ...]
    default: Target
    system: str | None = None
    announcement: str | None = None
    # the day tables of routing.day_routes, by local date (bounded there)
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)


@dataclass(frozen=True)
class Plan:
    """Everything routing needs about one hotline: its services, time zone and config version."""

    line: str
    tz: ZoneInfo
    services: dict[str, Service] = field(hash=False)
    version: str = ""


@dataclass(frozen=True)
class Decision:
    """Who takes a call about `service` at `at`, and why; frozen with the config version."""

    line: str
    service: str
    service_name: str
    route: RouteKind
    target: str
    target_name: str
    steps: tuple[Step, ...]
    exhausted: Exhausted
    reason: str
    at: dt.datetime
    next_change: dt.datetime | None
    announcements: tuple[str, ...]
    config_version: str

    @property
    def dial(self) -> list[list[str]]:
        """Return the escalation steps as lists of E.164 numbers, in order."""
        return [list(step.numbers) for step in self.steps]

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (times as ISO 8601 in the hotline's zone)."""
        return {
            "line": self.line,
            "service": self.service,
            "service_name": self.service_name,
            "route": self.route.value,
            "target": self.target,
            "target_name": self.target_name,
            "dial": self.dial,
            "steps": [
                {"numbers": list(s.numbers), "names": list(s.names), "timeout": s.timeout, "screen": s.screen}
                for s in self.steps
            ],
            "exhausted": {
                "kind": self.exhausted.kind.value,
                "number": self.exhausted.number,
                "message": self.exhausted.message,
            },
            "reason": self.reason,
            "at": self.at.isoformat(),
            "next_change": self.next_change.isoformat() if self.next_change else None,
            "announcements": list(self.announcements),
            "config_version": self.config_version,
        }
