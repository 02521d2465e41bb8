"""Turn a call's record into its incident (RQ job `settle`), and the snapshot that job carries.

The voice views enqueue `settle` when a call's outcome is known (ivr.incidents.web). The job reads
the call log, numbers the incident once (a repeated job finds it), and pages people about a missed
one. The snapshot (hotline name, zone, language, notify lists, sender) is taken from the config
the call ran under, so the worker needs no config. No Flask here.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os

from redis import Redis
from rq import Retry

from ivr import keys
from ivr.calls.events import fold
from ivr.hotline import Hotline
from ivr.incidents import paging
from ivr.incidents.model import IncidentState, Verdict, answered_by, verdict
from ivr.incidents.store import IncidentStore
from ivr.sms.jobs import _connection, queue

log = logging.getLogger(__name__)


def sender_of(hotline: Hotline, base_url: str | None) -> dict:
    """Return {sender_from, messaging_service_sid, rate, status_callback} for the hotline's pages:
    the outages section's sender when set, else TWILIO_MESSAGING_SERVICE_SID / TWILIO_FROM_NUMBER."""
    policy = hotline.outages
    msid = policy.messaging_service_sid if policy else None
    frm = policy.sender_from if policy else None
    if not msid and not frm:
        msid = os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None
        frm = None if msid else (os.environ.get("TWILIO_FROM_NUMBER") or None)
    base = (base_url or "").rstrip("/")
    return {"sender_from": frm, "messaging_service_sid": msid, "rate": policy.rate if policy else 10.0,
            "status_callback": f"{base}/sms/status" if base else None}


def snapshot(hotline: Hotline, caller: str | None, base_url: str | None) -> dict:
    """Return what `settle` needs to know of the hotline, JSON-ready (notify lists per target)."""
    sites = {s.number: s.name for s in hotline.all_sites()}
    notify = hotline.notify
    return {
        "line": hotline.line, "hotline": hotline.name, "tz": hotline.tz.key, "language": hotline.language,
        "ttl_days": hotline.call_log_days, "base_url": (base_url or "").rstrip("/"),
        "caller": caller or "", "caller_name": sites.get(caller or "", ""),
        "sms": sender_of(hotline, base_url),
        "default": [lv.to_dict() for lv in notify.default] if notify else [],
        "targets": {t: [lv.to_dict() for lv in levels] for t, levels in notify.targets.items()} if notify else {},
    }


def enqueue_settle(redis: Redis, snap: dict, call_sid: str, delay: float = 0.0, final: bool = False) -> None:
    """Enqueue `settle` for a call (after `delay` seconds). Raises redis errors."""
    q = queue(redis)
    retry = Retry(max=3, interval=[5, 15, 30])
    if delay > 0:
        q.enqueue_in(dt.timedelta(seconds=delay), settle, snap, call_sid, final, result_ttl=3600, retry=retry)
    else:
        q.enqueue(settle, snap, call_sid, final, result_ttl=3600, retry=retry)


def settle(snap: dict, call_sid: str, final: bool = False) -> str:
    """RQ job: number the call's incident and page about a missed one; returns what it found."""
    verdict_, number = settle_call(_connection(), snap, call_sid, dt.datetime.now(dt.timezone.utc), final)
    return f"{verdict_.value} {number or ''}".strip()


def settle_call(redis: Redis, snap: dict, call_sid: str, now: dt.datetime,
                final: bool = False) -> tuple[Verdict, int | None]:
    """Open (or find) the incident of call `call_sid`; start paging when it is a new missed one.

    Returns (verdict, incident number or None when there is no incident yet). Raises redis errors.
    """
    events = [json.loads(raw) for raw in redis.lrange(keys.call_events(call_sid), 0, -1)]
    if not events:
        return Verdict.PENDING, None
    record = fold(call_sid, events)
    found = verdict(record, final)
    if found in (Verdict.PENDING, Verdict.NONE):
        return found, None
    line = snap["line"]
    decision = record.get("decision") or {}
    target = decision.get("target")
    outage_id = (record.get("extra") or {}).get("outage_id")
    caller = record.get("from") or snap.get("caller") or ""
    state = IncidentState.ANSWERED if found is Verdict.ANSWERED else IncidentState.MISSED
    fields = {
        "state": state.value, "hotline": snap.get("hotline") or "", "service": record.get("service") or "",
        "service_name": record.get("service_name") or "", "target": target or "", "from": caller,
        "caller_name": snap.get("caller_name") if caller == snap.get("caller") else "",
        "started_at": record.get("started_at") or "", "outcome": record.get("outcome") or "",
        "answered_by": answered_by(record) if state is IncidentState.ANSWERED else "",
        "recording_url": record.get("recording_url") or "", "outage_id": outage_id or "",
    }
    store = IncidentStore(redis)
    ttl_days = int(snap.get("ttl_days") or 90)
    number, created = store.open(line, call_sid, fields, now, ttl_days)
    incident = store.get(line, number) or {}
    if not created and record.get("recording_url") and not incident.get("recording_url"):
        store.set_fields(line, number, recording_url=record["recording_url"])
    if incident.get("state") == IncidentState.MISSED.value and not incident.get("alert"):
        levels = snap.get("targets", {}).get(target or "", snap.get("default") or [])
        alert_snap = {k: snap.get(k) for k in ("hotline", "tz", "language", "base_url", "sms")}
        alert_snap["levels"] = levels
        lead = paging.start_alert(redis, line, number, alert_snap, outage_id, now, ttl_days)
        log.info("incident %s/%s (call %s) missed: alert %s", line, number, call_sid, lead)
    return found, number
