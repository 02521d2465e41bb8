"""Acknowledge and resolve incidents: the one place the CLI and the SMS replies go through.

Acknowledging a missed incident takes its whole alert (the calls grouped with it), cancels the
alert's re-notification and texts the others paged about it who took it, once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis import Redis

from ivr.incidents import paging, texts
from ivr.incidents.alerts import AlertStore
from ivr.incidents.model import IncidentState
from ivr.incidents.store import IncidentStore


@dataclass(frozen=True)
class Change:
    """What acknowledge/resolve did: `status` "ok", "already" (someone else had it), "answered",
    "resolved" (it already was) or "missing"; `by` who has it now; `count` incidents taken."""

    status: str
    incident: dict | None = None
    by: str = ""
    count: int = 0


def name_of(snapshot: dict, number: str) -> str:
    """Return "Name (number)" for a number in the alert's notify lists, else the number."""
    for level in snapshot.get("levels") or []:
        for n, name in zip(level.get("numbers") or [], level.get("names") or []):
            if n == number and name and name != number:
                return f"{name} ({number})"
    return number


def acknowledge(redis: Redis, line: str, number: int, by: str, at: dt.datetime,
                by_number: str | None = None) -> Change:
    """Take missed incident `number` (and its alert's others) on as `by`. Raises redis errors."""
    store, alerts = IncidentStore(redis), AlertStore(redis)
    incident = store.get(line, number)
    if incident is None:
        return Change("missing")
    if incident["state"] == IncidentState.ANSWERED.value:
        return Change("answered", incident, incident.get("answered_by") or "")
    lead = int(incident["alert"]) if incident.get("alert") else None
    status, who = alerts.acknowledge(line, lead, by, at) if lead is not None else ("missing", "")
    if status == "missing":  # no alert (or it expired): the incident alone decides
        if store.acknowledge(line, number, by, at) == "ok":
            return Change("ok", store.get(line, number), by, 1)
        who = ""
    if status != "ok":  # the alert's taker is the one who has it, even before its calls are marked
        incident = store.get(line, number)
        if incident["state"] == IncidentState.RESOLVED.value:
            return Change("resolved", incident, incident.get("resolved_by") or "")
        return Change("already", incident, who or incident.get("acknowledged_by") or "")
    members = alerts.members(line, lead)
    for n in members:
        store.acknowledge(line, n, by, at)
    paging.cancel_pages(redis, line, lead)
    alert = alerts.get(line, lead) or {"snapshot": {}}
    snap = alert["snapshot"]
    body = texts.taken(snap.get("language") or "en", snap.get("hotline") or line, lead, len(members), by)
    paging.tell_taken(redis, line, lead, body, by_number)
    return Change("ok", store.get(line, number), by, len(members))


def resolve(redis: Redis, line: str, number: int, by: str, at: dt.datetime, note: str = "",
            by_number: str | None = None) -> Change:
    """Resolve incident `number` (taking it on first when it was missed). Raises redis errors."""
    store = IncidentStore(redis)
    incident = store.get(line, number)
    if incident is None:
        return Change("missing")
    if incident["state"] == IncidentState.MISSED.value:
        acknowledge(redis, line, number, by, at, by_number)
    status = store.resolve(line, number, by, at, note)
    incident = store.get(line, number)
    if status != "ok":
        return Change("resolved", incident, incident.get("resolved_by") or "")
    return Change("ok", incident, by, 1)
