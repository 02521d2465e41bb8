"""Reading an outage with its blasts and per-recipient delivery (`hotline outage show`, the console),
and the texts a declare or restore would send, before anything is sent."""
from __future__ import annotations

import datetime as dt

from redis import Redis

from ivr.hotline import Hotline
from ivr.outages import texts
from ivr.outages.model import Outage
from ivr.outages.store import OutageStore
from ivr.sms.blast import BlastStore


def show(client: Redis, outage_id: str) -> dict | None:
    """Return an outage with its blasts, per-recipient SID and last status, and linked calls (None: unknown)."""
    store, blasts = OutageStore(client), BlastStore(client)
    outage = store.get(outage_id)
    if outage is None:
        return None
    out = {**outage.to_json(), "calls": store.calls(outage_id), "blasts": []}
    for bid in store.blasts(outage_id):
        blast = blasts.get(bid)
        if blast is None:
            continue
        out["blasts"].append({
            "id": bid, "kind": blast.kind, "body": blast.body, **blasts.progress(bid),
            "recipients": [{
                "to": r["to"], "state": r.get("state"), "sid": r.get("sid") or None,
                "status": r.get("status") or None, "attempts": int(r.get("attempts") or 0),
                "error_code": r.get("error_code") or None, "error": r.get("error") or None,
            } for r in blasts.recipients(bid)],
        })
    return out


def site_numbers(hotline: Hotline) -> list[str]:
    """Return the site numbers a declare texts (the policy's groups, or every site)."""
    policy = hotline.outages
    groups = list(policy.groups) if policy is not None and policy.groups is not None else None
    return [s.number for s in hotline.all_sites(groups)]


def down_text(hotline: Hotline, system: str, message: str, now: dt.datetime) -> str:
    """Return the "down" SMS a declare of `system` at `now` sends, rendered as the declare renders it.

    Raises KeyError for a system the hotline does not have; the hotline must have an outages policy.
    """
    values = texts.fields(system=hotline.systems[system], declared_at=now, now=now, tz=hotline.tz,
                          language=hotline.language, message=message, line=hotline.line, hotline=hotline.name)
    return texts.render(hotline.outages.down_text, values)


def restored_text(hotline: Hotline, outage: Outage, now: dt.datetime) -> str:
    """Return the "restored" SMS a restore of `outage` at `now` sends."""
    values = texts.fields(system=hotline.systems.get(outage.system, outage.system), declared_at=outage.declared_at,
                          now=now, tz=hotline.tz, language=hotline.language, message=outage.message,
                          line=hotline.line, hotline=hotline.name)
    return texts.render(hotline.outages.restored_text, values)
