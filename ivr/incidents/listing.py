"""Reading incidents as the admin sees them: the newest of every hotline (filtered by state and
time) and one incident with who was paged. `hotline incidents` and the admin console both read
through here, so they always show the same thing. No Flask here.
"""
from __future__ import annotations

import datetime as dt

from redis import Redis

from ivr.incidents.paging import notified_of
from ivr.incidents.store import IncidentStore

PUBLIC = ("id", "line", "call_sid", "state", "service", "service_name", "hotline", "from", "caller_name",
          "started_at", "outcome", "answered_by", "acknowledged_by", "acknowledged_at", "resolved_by",
          "resolved_at", "note", "recording_url", "outage_id", "notified", "history")


def full(redis: Redis, line: str, number: int) -> dict | None:
    """Return an incident with the fields of PUBLIC (`notified`: who was paged), or None when
    unknown. Raises redis errors."""
    incident = IncidentStore(redis).get(line, number)
    if incident is None:
        return None
    lead = int(incident["alert"]) if incident.get("alert") else None
    incident["notified"] = notified_of(redis, line, lead)
    return {k: incident.get(k) for k in PUBLIC}


def recent(redis: Redis, line: str | None = None, since: dt.datetime | None = None, state: str | None = None,
           limit: int = 200, detailed: bool = False) -> list[dict]:
    """Return incidents newest first (by call start) of one hotline or all, started since `since`,
    in `state` when given, at most `limit`; `detailed` adds who was paged (as `full`).
    Raises redis errors."""
    store = IncidentStore(redis)
    pairs = []
    for ln in [line] if line else store.lines():
        pairs += [(score, ln, n) for score, n in store.numbers(ln, since, max(1, limit) * 4)]
    pairs.sort(reverse=True)
    out: list[dict] = []
    for _, ln, n in pairs:
        incident = full(redis, ln, n) if detailed else store.get(ln, n)
        if incident and (state is None or incident["state"] == state):
            out.append(incident)
        if len(out) >= limit:
            break
    return out


def of_call(redis: Redis, call_sid: str) -> dict | None:
    """Return the incident of call `call_sid` (as `full`), or None when it has none yet."""
    found = IncidentStore(redis).of_call(call_sid)
    return full(redis, *found) if found else None
