"""RQ job for timed escalation (no Flask here: workers run without an app).

Scheduled by ivr.outages.service at declare time as `escalate(outage_id, step)` at
declared_at + after_minutes, with a fixed job id so restore can cancel it. Firing is claimed by
one Lua script (only while the outage is open, only once per step), so several workers, a
retried job or a late cancel never notify twice.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from ivr.outages.model import BlastKind, OutageState
from ivr.outages.store import OutageStore
from ivr.sms.blast import BlastStore
from ivr.sms.jobs import _connection

log = logging.getLogger(__name__)


def escalate(outage_id: str, step: int) -> str:
    """RQ job: notify escalation `step` of an open outage; returns "sent", "skipped" or "gone"."""
    from ivr.outages.service import _blast, blast_id  # service imports this module lazily

    redis = _connection()
    store = OutageStore(redis)
    raw = store.raw(outage_id)
    if not raw:
        return "gone"
    steps = json.loads(raw.get("escalations") or "[]")
    if step >= len(steps):
        return "gone"
    now = dt.datetime.now(dt.timezone.utc)
    if not store.fire(outage_id, step, now):
        # Already fired: only finish a run that died between firing and starting its blast, and
        # only while the outage is still open (never "still down" after "works again").
        outage = store.get(outage_id)
        if (step not in outage.fired or outage.state is not OutageState.OPEN
                or BlastStore(redis).get(blast_id(outage_id, BlastKind.ESCALATION, step))):
            log.info("outage %s: escalation %s not fired (restored or already fired)", outage_id, step)
            return "skipped"
    _blast(redis, store, outage_id, BlastKind.ESCALATION, steps[step]["text"], steps[step]["numbers"], now, step)
    log.info("outage %s: escalation %s fired to %d numbers", outage_id, step, len(steps[step]["numbers"]))
    return "sent"
