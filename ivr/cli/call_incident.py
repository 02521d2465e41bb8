"""The incident line `hotline call` prints at the end of a call: its number, or who would be paged.

In-process with --log (and with --url when REDIS_URL is set) the call is in the real call log:
the incident is numbered there (the same idempotent step the worker's job runs, so nobody is
paged twice) and shown. A private in-process call log has no numbers: the line says who a
missed call would page.
"""
from __future__ import annotations

import datetime as dt
import os
import time

from ivr.hotline import Hotline
from ivr.incidents.model import Verdict, verdict


def _names(hotline: Hotline, record: dict) -> str:
    notify = hotline.notify
    target = (record.get("decision") or {}).get("target")
    levels = notify.levels_for(target) if notify else ()
    if not levels:
        return "nobody (no notify: list)"
    first = levels[0]
    return ", ".join(f"{name} {number}" if name != number else number
                     for name, number in zip(first.names, first.numbers))


def settle_here(redis, hotline: Hotline, record: dict, sid: str, caller: str) -> str | None:
    """Number the call's incident in Redis now; returns the line to print (None: no incident)."""
    from ivr.incidents.jobs import settle_call, snapshot
    from ivr.incidents.store import IncidentStore

    snap = snapshot(hotline, caller, os.environ.get("PUBLIC_BASE_URL"))
    found, number = settle_call(redis, snap, sid, dt.datetime.now(dt.timezone.utc), final=True)
    if number is None:
        return None
    incident = IncidentStore(redis).get(hotline.line, number) or {}
    return _line(number, incident.get("state") or found.value, hotline, record)


def wait_for_server(redis, hotline: Hotline, sid: str, timeout: float = 10.0) -> str:
    """Return the line for a call logged by a running server (its worker numbers the incident)."""
    from ivr.incidents.store import IncidentStore

    store = IncidentStore(redis)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = store.of_call(sid)
        if found is not None:
            incident = store.get(*found) or {}
            return f"  incident  {found[1]} ({incident.get('state')}): see `hotline incidents show {found[1]}`"
        time.sleep(0.2)
    return "  incident  not numbered yet (no incident for a call that asked for no one, or no worker running)"


def private(hotline: Hotline, record: dict) -> str | None:
    """Return the line for a private (unnumbered) call log, None when it is no incident."""
    found = verdict(record, final=True)
    if found is Verdict.NONE:
        return None
    if found is Verdict.ANSWERED:
        return "  incident  answered (numbered only in the real call log: run with --log)"
    return (f"  incident  missed: would page {_names(hotline, record)} "
            "(numbered only in the real call log: run with --log)")


def _line(number: int, state: str, hotline: Hotline, record: dict) -> str:
    if state == "missed":
        return f"  incident  {number} (missed): paging {_names(hotline, record)}; they answer \"OK {number}\""
    return f"  incident  {number} ({state})"
