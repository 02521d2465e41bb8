"""Declare and restore outages: the one place the CLI and the phone menu go through.

Each step is idempotent, so repeating a command after a crash completes what is missing and
never sends twice: the outage is opened by one Lua script (a second declare finds it open),
blasts have ids derived from the outage (`outage-7-down`) and are created at most once, and
escalation jobs have fixed ids and a flag saying they were scheduled.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis import Redis
from rq import Retry

from ivr import keys
from ivr.hotline import Hotline
from ivr.outages import texts
from ivr.outages.model import BlastKind, Outage, OutageState
from ivr.outages.store import OutageStore
from ivr.sms.blast import Blast, BlastStore
from ivr.sms.jobs import cancel_jobs, queue, start_blast


class OutageError(Exception):
    """A declare/restore that cannot be done, with a message for the admin or caller."""


@dataclass(frozen=True)
class Result:
    """What declare/restore did: the outage, whether this call changed it, blasts started."""

    outage: Outage
    changed: bool
    blasts: tuple[str, ...] = ()


def sender(hotline: Hotline) -> dict[str, object]:
    """Return {sender_from, messaging_service_sid, rate, status_callback} for the hotline's SMS.

    The config's sender wins; TWILIO_MESSAGING_SERVICE_SID / TWILIO_FROM_NUMBER fill in.
    Raises OutageError when there is no sender at all.
    """
    policy = hotline.outages
    assert policy is not None
    msid = policy.messaging_service_sid or (None if policy.sender_from else os.environ.get("TWILIO_MESSAGING_SERVICE_SID"))
    frm = policy.sender_from or (None if msid else os.environ.get("TWILIO_FROM_NUMBER"))
    if not msid and not frm:
        raise OutageError(f"no SMS sender for {hotline.line}: set outages.sender in the config, "
                          "or TWILIO_FROM_NUMBER / TWILIO_MESSAGING_SERVICE_SID")
    base = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return {"sender_from": frm, "messaging_service_sid": msid, "rate": policy.rate,
            "status_callback": f"{base}/sms/status" if base else None}


def check_system(hotline: Hotline, system: str) -> None:
    """Raise OutageError unless `hotline` has outages configured and a system named `system`."""
    if hotline.outages is None:
        raise OutageError(f"hotline {hotline.line} has no outages: section in its config")
    if system not in hotline.systems:
        raise OutageError(f"unknown system {system!r} (known: {', '.join(sorted(hotline.systems)) or 'none'})")


def declare(redis: Redis, hotline: Hotline, system: str, message: str, by: str, now: dt.datetime) -> Result:
    """Open an outage (or find the open one), blast "down" to the sites, schedule escalations.

    Returns Result(changed=False) when it was already open: nothing is sent again (only what a
    crashed earlier declare left undone is completed). Raises OutageError, redis errors.
    """
    check_system(hotline, system)
    policy = hotline.outages
    sms = sender(hotline)
    steps = [{"after_minutes": e.after_minutes, "numbers": list(e.numbers), "text": e.text,
              "restore_text": e.restore_text or ""} for e in policy.escalations]
    snapshot = {
        "message": message, "declared_by": by, "system_name": hotline.systems[system],
        "hotline_name": hotline.name, "tz": hotline.tz.key, "language": hotline.language,
        "sms": json.dumps(sms), "escalations": json.dumps(steps),
    }
    store = OutageStore(redis)
    oid, created = store.declare(hotline.line, system, snapshot, now)
    outage = store.get(oid)
    numbers = [s.number for s in hotline.all_sites(list(policy.groups) if policy.groups is not None else None)]
    started = []
    if _blast(redis, store, oid, BlastKind.DOWN, policy.down_text, numbers, now):
        started.append(f"outage-{oid}-down")
    _schedule_escalations(redis, store, oid)
    return Result(outage, created, tuple(started))


def restore(redis: Redis, hotline: Hotline, system: str, by: str, now: dt.datetime) -> Result:
    """Restore the open outage: cancel pending escalations, blast "restored" to everyone told it
    was down, and tell escalation contacts that were told; the outage and its blasts then expire
    `outages.keep_days` after the restore. Raises OutageError when none is open (unless the latest
    one's restore was left half-done: then it is completed)."""
    check_system(hotline, system)
    store = OutageStore(redis)
    oid = store.restore(hotline.line, system, by, now)
    changed = oid is not None
    if oid is None:
        latest = next((o for o in store.list(hotline.line, 200) if o.system == system), None)
        if latest is None or latest.state is not OutageState.RESTORED or _has_blast(redis, latest.id, BlastKind.RESTORED):
            raise OutageError(f"no open outage of {system} on {hotline.line}")
        oid = latest.id
    cancel_escalations(redis, store, oid)
    outage = store.get(oid)
    down = BlastStore(redis).numbers(f"outage-{oid}-{BlastKind.DOWN.value}")
    policy = hotline.outages
    numbers = down or [s.number for s in hotline.all_sites(list(policy.groups) if policy.groups is not None else None)]
    started = []
    at = outage.restored_at or now
    if _blast(redis, store, oid, BlastKind.RESTORED, policy.restored_text, numbers, at):
        started.append(f"outage-{oid}-restored")
    steps = json.loads(store.raw(oid).get("escalations") or "[]")
    for i, step in enumerate(steps):
        if i in outage.fired and step["restore_text"]:
            if _blast(redis, store, oid, BlastKind.ESCALATION_RESTORED, step["restore_text"], step["numbers"], at, i):
                started.append(f"outage-{oid}-{BlastKind.ESCALATION_RESTORED.value}{i}")
    store.keep(oid, policy.keep_days, now)  # last: every blast of the outage exists by now
    return Result(store.get(oid), changed, tuple(started))


def blast_id(outage_id: str, kind: BlastKind, step: int | None = None) -> str:
    """Return the fixed id of an outage's blast of this kind (and escalation step)."""
    return f"outage-{outage_id}-{kind.value}{'' if step is None else step}"


def _has_blast(redis: Redis, outage_id: str, kind: BlastKind) -> bool:
    return BlastStore(redis).get(blast_id(outage_id, kind)) is not None


def _blast(redis: Redis, store: OutageStore, oid: str, kind: BlastKind, template: str,
           numbers: list[str], at: dt.datetime, step: int | None = None) -> bool:
    """Render and start one blast of outage `oid`; returns False if it had been started before."""
    raw = store.raw(oid)
    tz = ZoneInfo(raw["tz"])
    values = texts.fields(system=raw["system_name"], declared_at=dt.datetime.fromisoformat(raw["declared_at"]),
                          now=at, tz=tz, language=raw["language"], message=raw.get("message", ""),
                          line=raw["line"], hotline=raw["hotline_name"])
    sms = json.loads(raw["sms"])
    bid = blast_id(oid, kind, step)
    blast = Blast(id=bid, body=texts.render(template, values), sender_from=sms["sender_from"],
                  messaging_service_sid=sms["messaging_service_sid"], rate=float(sms["rate"]),
                  status_callback=sms["status_callback"], outage_id=oid, kind=kind.value, total=len(numbers))
    store.add_blast(oid, bid)
    return start_blast(redis, blast, numbers)


def _schedule_escalations(redis: Redis, store: OutageStore, oid: str) -> None:
    """Schedule each escalation step as an RQ job at declared_at + after_minutes (once)."""
    from ivr.outages.jobs import escalate  # the job module imports this one

    raw = store.raw(oid)
    if raw.get("escalations_scheduled") == "1":  # once per outage
        return
    declared = dt.datetime.fromisoformat(raw["declared_at"])
    q = queue(redis)
    for i, step in enumerate(json.loads(raw.get("escalations") or "[]")):
        at = declared + dt.timedelta(minutes=step["after_minutes"])
        q.enqueue_at(at, escalate, oid, i, job_id=escalation_job_id(oid, i), result_ttl=86400,
                     retry=Retry(max=3, interval=[10, 30, 60]))
    # Flagged only once every job is in: a declare that died half-way schedules them when run again
    # (fixed job ids, and escalate() fires a step at most once, so scheduling twice is harmless).
    redis.hset(keys.outage(oid), "escalations_scheduled", "1")


def escalation_job_id(outage_id: str, step: int) -> str:
    """Return the RQ job id of an outage's escalation step."""
    return f"hotline-escalate-{outage_id}-{step}"


def cancel_escalations(redis: Redis, store: OutageStore, oid: str) -> int:
    """Delete the outage's escalation jobs that have not run (see cancel_jobs); returns how many
    were waiting. Belt and braces: a job that runs anyway finds the outage restored and does nothing.
    """
    steps = json.loads(store.raw(oid).get("escalations") or "[]")
    return cancel_jobs(redis, (escalation_job_id(oid, i) for i in range(len(steps))))
