"""Incident values: states, the notify lists of a hotline, and how a call record becomes an incident.

No Flask, Redis or RQ here: plain values and pure functions the store, the jobs and the CLI share.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum



class IncidentState(str, Enum):
    """Where an incident is in its life; the value is what Redis holds."""

    ANSWERED = "answered"          # someone accepted the call: closed at once
    MISSED = "missed"              # nobody took it: people are paged until someone acknowledges
    ACKNOWLEDGED = "acknowledged"  # a person took the missed call on
    RESOLVED = "resolved"          # done (with an optional note)


class Verdict(str, Enum):
    """What a call record says about its incident so far."""

    ANSWERED = "answered"
    MISSED = "missed"
    PENDING = "pending"   # not known yet (the call goes on, a voicemail may still come)
    NONE = "none"         # the caller never asked for a person: no incident


# Call outcomes as ivr.calls.events.Outcome writes them (this module stays below the call log).
MISSED_OUTCOMES = {"voicemail", "message", "no_answer", "abandoned"}
NO_INCIDENT = {"hung_up", "said", "staff", "unknown_line"}
GREETING = "voicemail greeting"  # the detail of the outcome logged while the voicemail greeting plays


def verdict(record: dict, final: bool = False) -> Verdict:
    """Return what the call record `record` (ivr.calls.events.fold) means for its incident.

    `final` says the call is over even if no end event came (a late safety check).
    """
    outcome = record.get("outcome")
    ended = bool(record.get("ended_at")) or final
    if outcome == "answered":
        return Verdict.ANSWERED
    if outcome in NO_INCIDENT:
        return Verdict.NONE
    if outcome in ("fallback", "error"):
        tried = [a for a in record.get("attempts") or [] if a.get("step") == "fallback"]
        if tried:
            return Verdict.ANSWERED if tried[-1].get("accepted_by") else Verdict.MISSED
        return Verdict.MISSED if ended else Verdict.PENDING
    if outcome == "no_answer" and (record.get("detail") or "").startswith(GREETING) and not ended:
        return Verdict.PENDING
    if outcome in MISSED_OUTCOMES:
        return Verdict.MISSED
    return Verdict.PENDING


def answered_by(record: dict) -> str:
    """Return who took an answered call: the accepting number(s), or '' when not known."""
    if record.get("accepted_by"):
        return str(record["accepted_by"])
    for attempt in reversed(record.get("attempts") or []):
        if attempt.get("accepted_by"):
            return str(attempt["accepted_by"])
    return ""


@dataclass(frozen=True)
class NotifyLevel:
    """One notify list: these numbers (E.164) get an SMS about a missed call.

    `renotify_after` (seconds): when nobody acknowledged by then, the next list is paged (the last
    list is paged again). None: nobody is paged after this list.
    """

    numbers: tuple[str, ...]
    names: tuple[str, ...] = ()
    renotify_after: int | None = None

    def to_dict(self) -> dict:
        """Return a JSON-ready dict (how a list travels in an alert's snapshot)."""
        return {"numbers": list(self.numbers), "names": list(self.names), "renotify_after": self.renotify_after}


@dataclass(frozen=True)
class NotifyPolicy:
    """Who hears of a missed call: per target, else the hotline's default (either may be empty)."""

    default: tuple[NotifyLevel, ...] = ()
    targets: dict[str, tuple[NotifyLevel, ...]] = field(default_factory=dict, hash=False)

    def levels_for(self, target: str | None) -> tuple[NotifyLevel, ...]:
        """Return the notify lists for a call to `target` (the hotline default when it has none)."""
        return self.targets.get(target, self.default) if target else self.default


MAX_ROUNDS = 6  # an alert pages at most this many times (lists, then the last list again)


def level_of(levels: list[dict], round_: int) -> dict | None:
    """Return the list paged in round `round_` (0 = first); past the end, the last list; None when
    there are no lists or the rounds are used up."""
    if not levels or round_ >= MAX_ROUNDS:
        return None
    return levels[min(round_, len(levels) - 1)]


def next_round_after(levels: list[dict], round_: int) -> int | None:
    """Return seconds after round `round_` before the next one, or None when none follows."""
    level = level_of(levels, round_)
    if level is None or not level.get("renotify_after") or round_ + 1 >= MAX_ROUNDS:
        return None
    return int(level["renotify_after"])
