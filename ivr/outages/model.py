"""Outage values: states, the frozen outage policy of a hotline, and an outage as stored in Redis.

No Flask, Redis or RQ here: these are plain values the store, the jobs and the views share.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum


class OutageState(str, Enum):
    """Where an outage is in its life; the value is what Redis holds."""

    OPEN = "open"
    RESTORED = "restored"


class BlastKind(str, Enum):
    """Why an SMS blast was sent."""

    DOWN = "down"
    RESTORED = "restored"
    ESCALATION = "escalation"
    ESCALATION_RESTORED = "escalation_restored"


# Placeholders the admin may use in texts; anything else is a config error.
PLACEHOLDERS = ("system", "since", "time", "date", "message", "minutes", "line", "hotline")


@dataclass(frozen=True)
class Escalation:
    """After `after_minutes` of an open outage, text `numbers` (E.164) with `text`.

    `restore_text`, when given, is sent to the same numbers on restore, but only if this
    step had fired (the Driftvagt is told it is up again only if it was told it was down).
    """

    after_minutes: int
    numbers: tuple[str, ...]
    names: tuple[str, ...]
    text: str
    restore_text: str | None = None


@dataclass(frozen=True)
class StaffEntry:
    """Who may declare or restore by phone: allow-listed callers (E.164) and a PIN hash."""

    callers: tuple[str, ...]
    pin_hash: str
    max_attempts: int = 3
    lockout_minutes: int = 15
    require_attestation: str | None = None   # "A": only callers whose caller ID Twilio verified at level A


@dataclass(frozen=True)
class OutagePolicy:
    """A hotline's `outages:` section, built: texts, sender, rate, recipients and escalations.

    `keep_days`: a restored outage and its blasts are kept this many days from the restore.

    `sender_from` / `messaging_service_sid` may both be None: the environment then fills them
    (TWILIO_FROM_NUMBER / TWILIO_MESSAGING_SERVICE_SID) when a blast starts.
    """

    down_text: str
    restored_text: str
    rate: float = 10.0
    groups: tuple[str, ...] | None = None
    sender_from: str | None = None
    messaging_service_sid: str | None = None
    escalations: tuple[Escalation, ...] = ()
    staff: StaffEntry | None = None
    announcement: str | None = None
    keep_days: int = 400


@dataclass(frozen=True)
class Outage:
    """One outage of one system on one hotline, as read back from Redis."""

    id: str
    line: str
    system: str
    state: OutageState
    message: str
    declared_at: dt.datetime
    declared_by: str
    restored_at: dt.datetime | None = None
    restored_by: str | None = None
    fired: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """Return the outage as a JSON-ready dict (times in ISO 8601 UTC)."""
        return {
            "id": self.id, "line": self.line, "system": self.system, "state": self.state.value,
            "message": self.message, "declared_at": self.declared_at.isoformat(),
            "declared_by": self.declared_by,
            "restored_at": self.restored_at.isoformat() if self.restored_at else None,
            "restored_by": self.restored_by,
            "escalations_fired": {str(k): v for k, v in sorted(self.fired.items())},
        }
