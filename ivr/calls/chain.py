"""The escalation chain frozen when a call reaches its service: plain data, safe to keep in Redis.

A config reload in the middle of a call does not change what the call does next: later webhooks
read the chain from the call's `service` event, not from the config.
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.kept import KeptPerObject
from routing import Decision, RouteKind


@dataclass(frozen=True)
class Leg:
    """One escalation step: numbers ringing together, names for screens and logs."""

    numbers: tuple[str, ...]
    names: tuple[str, ...]
    timeout: int
    screen: bool


@dataclass(frozen=True)
class Chain:
    """The steps of a call's decision and what happens when they are exhausted."""

    service: str
    service_name: str
    route: str
    target_name: str
    legs: tuple[Leg, ...]
    end_kind: str            # voicemail | dial | message
    end_number: str | None
    end_message: str | None
    config_version: str
    announcements: tuple[str, ...] = ()

    @property
    def emergency(self) -> bool:
        """Return True for emergency targets: never screened, never voicemail."""
        return self.route == RouteKind.EMERGENCY.value

    def leg(self, index: int) -> Leg | None:
        """Return step `index`, or None past the end (or for a negative index)."""
        return self.legs[index] if 0 <= index < len(self.legs) else None


def chain_from_dict(data: dict) -> Chain:
    """Return the chain of a `Decision.to_dict()`; raises KeyError/TypeError/ValueError when malformed."""
    emergency = data["route"] == RouteKind.EMERGENCY.value
    legs = tuple(
        Leg(tuple(str(n) for n in s["numbers"]), tuple(str(n) for n in s.get("names") or ()),
            int(s.get("timeout") or 25), bool(s.get("screen")) and not emergency)
        for s in data["steps"]
    )
    end = data.get("exhausted") or {}
    kind = end.get("kind") or "message"
    if emergency and kind == "voicemail":
        kind = "message"
    return Chain(
        service=data["service"], service_name=data.get("service_name") or data["service"],
        route=data["route"], target_name=data.get("target_name") or "", legs=legs,
        end_kind=kind, end_number=end.get("number"), end_message=end.get("message"),
        config_version=data.get("config_version") or "",
        announcements=tuple(data.get("announcements") or ()),
    )


def chain_from_decision(decision: Decision) -> Chain:
    """Return the chain of a fresh routing decision: what `chain_from_dict(decision.to_dict())`
    returns (the chain a later webhook reads from the call log), without making the dict; the legs
    are kept per target's steps (tests/test_chain_from_decision.py compares the two)."""
    emergency = decision.route == RouteKind.EMERGENCY
    end = decision.exhausted
    kind = end.kind.value or "message"
    if emergency and kind == "voicemail":
        kind = "message"
    return Chain(
        service=decision.service, service_name=decision.service_name or decision.service,
        route=decision.route.value, target_name=decision.target_name or "",
        legs=_legs(decision.steps, emergency), end_kind=kind, end_number=end.number,
        end_message=end.message, config_version=decision.config_version or "",
        announcements=tuple(decision.announcements),
    )


LEGS_KEPT = 512   # targets' legs kept at most (then started again)
_kept_legs = KeptPerObject(LEGS_KEPT)   # per target's steps (a reloaded config brings new steps)


def _legs(steps: tuple, emergency: bool) -> tuple[Leg, ...]:
    """Return the legs of a target's steps, as chain_from_dict makes them from the steps' dicts."""
    return _kept_legs.get(emergency, lambda: tuple(
        Leg(tuple(str(n) for n in s.numbers), tuple(str(n) for n in s.names or ()), int(s.timeout or 25),
            bool(s.screen) and not emergency) for s in steps), steps)
