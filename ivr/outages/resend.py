"""Resend an outage's blasts to the recipients that gave up (`hotline outage resend ID`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis import Redis

from ivr.outages.model import BlastKind, OutageState
from ivr.outages.service import OutageError
from ivr.outages.store import OutageStore
from ivr.sms.blast import BlastStore
from ivr.sms.resend import resend_gave_up

# Once an outage is restored, its "down" news is out of date: those blasts are not sent again.
_STALE_WHEN_RESTORED = (BlastKind.DOWN.value, BlastKind.ESCALATION.value)


@dataclass(frozen=True)
class Resent:
    """One blast's part of a resend: the recipients queued again, or why it was skipped."""

    blast_id: str
    kind: str
    numbers: tuple[str, ...]
    skipped: str = ""

    def to_json(self) -> dict:
        return {"blast": self.blast_id, "kind": self.kind, "queued": len(self.numbers),
                "numbers": list(self.numbers), "skipped": self.skipped or None}


def resend(redis: Redis, outage_id: str, by: str, now: dt.datetime, blast_id: str | None = None) -> list[Resent]:
    """Queue the outage's blasts (or only `blast_id`) again for recipients that gave up; returns
    one Resent per blast. Each such recipient is queued once however often this runs.

    Raises OutageError for an unknown outage, a blast not of this outage, or a named "down" or
    escalation blast of a restored outage; redis errors pass through.
    """
    store = OutageStore(redis)
    outage = store.get(outage_id)
    if outage is None:
        raise OutageError(f"no outage {outage_id}")
    ids = store.blasts(outage_id)
    if blast_id is not None and blast_id not in ids:
        raise OutageError(f"outage {outage_id} has no blast {blast_id} (its blasts: {', '.join(ids) or 'none'})")
    blasts = BlastStore(redis)
    out = []
    for bid in [blast_id] if blast_id is not None else ids:
        blast = blasts.get(bid)
        if blast is None:
            continue
        if outage.state is OutageState.RESTORED and blast.kind in _STALE_WHEN_RESTORED:
            if blast_id is not None:
                raise OutageError(f"outage {outage_id} is restored: its {blast.kind} text is out of date, not resent")
            out.append(Resent(bid, blast.kind, (), "outage restored: text out of date"))
            continue
        out.append(Resent(bid, blast.kind, tuple(resend_gave_up(redis, bid, by, now))))
    return out
