"""Console pages for incidents: the list (filter by line, state, since) with Acknowledge and
Resolve, and the incidents still waiting for someone (for the Now page and a call's page).

They read and change incidents through ivr.incidents (listing, service), as `hotline incidents`
does: the console never keeps a model of its own. Responders may acknowledge and resolve; every
change goes to the audit log.
"""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request
from redis import RedisError

from ivr.console.pages_calls import filter_moment
from ivr.console.pages_now import hotlines
from ivr.console.web import _, back, bp, g, now, record, redis, state
from ivr.incidents import listing, service
from ivr.incidents.model import IncidentState

STATES = [s.value for s in IncidentState]
LIMIT = 200


def waiting(line: str | None = None) -> list[dict]:
    """Return missed incidents nobody acknowledged yet, newest first ([] when Redis fails: the Now
    page still shows routing)."""
    try:
        return listing.recent(redis(), line, None, IncidentState.MISSED.value, LIMIT)
    except RedisError:
        return []


def of_call(call_sid: str) -> dict | None:
    """Return the incident of a call, or None (also when Redis fails)."""
    try:
        return listing.of_call(redis(), call_sid)
    except RedisError:
        return None


@bp.app_template_global()
def hotline_of(line: str | None):
    """Jinja: the hotline called on `line`, or None (times then show in UTC)."""
    return state().config.find(line) if line else None


def _since(text: str) -> dt.datetime | None:
    """Return the filter's ISO time (the first hotline's zone when it has no offset), None when empty."""
    lines = state().config.lines()
    return filter_moment(text, lines[0].tz if lines else dt.timezone.utc)


@bp.get("/incidents")
def incidents_page():
    """Incidents newest first, filtered by ?line=&state=&since=."""
    f = {k: (request.args.get(k) or "").strip() for k in ("line", "state", "since")}
    line = hotlines(f["line"])[0].line if f["line"] else None
    if f["state"] and f["state"] not in STATES:
        abort(400, f"unknown state {f['state']!r}")
    found = listing.recent(redis(), line, _since(f["since"]), f["state"] or None, LIMIT)
    return render_template("incidents.html", incidents=found, f=f, states=STATES, lines=state().config.lines())


def _target() -> tuple[str, int]:
    line = hotlines(request.form.get("line"))[0].line
    try:
        return line, int(request.form.get("number") or "")
    except ValueError:
        abort(400, "no incident number")


_REFUSED = {"already": "was already taken by {by}", "answered": "was answered by {by}",
            "resolved": "is already resolved (by {by})", "missing": "is gone"}


def _after(verb: str, line: str, number: int, change: service.Change):
    record(f"incident {verb}", f"{line} {number}: {change.status}" + (f" ({change.by})" if change.by else ""))
    if change.status == "ok":
        flash(f"{_('Incident')} {number}: {_('acknowledged' if verb == 'acknowledge' else 'resolved')} ({g.user})")
    else:
        flash(f"{_('Incident')} {number} " + _REFUSED.get(change.status, change.status).format(by=change.by or "?"))
    nxt = request.form.get("next") or ""
    if nxt.startswith("/admin/") and not nxt.startswith("//"):
        return redirect(nxt)
    return back("console.incidents_page")


@bp.post("/incidents/acknowledge")
def acknowledge():
    """Take a missed incident (and its alert's others) on as the signed-in user."""
    line, number = _target()
    return _after("acknowledge", line, number, service.acknowledge(redis(), line, number, g.user, now()))


@bp.post("/incidents/resolve")
def resolve():
    """Resolve an incident (acknowledging it first when missed), with an optional note."""
    line, number = _target()
    note = (request.form.get("note") or "").strip()[:500]
    return _after("resolve", line, number, service.resolve(redis(), line, number, g.user, now(), note))
