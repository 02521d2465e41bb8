"""Console pages: the call log with filters (line, service, time span, caller), CSV export of what
the filter shows, and one call's timeline (the same lines as `hotline calls --show`) with its incident."""
from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response, abort, render_template, request
from redis import RedisError

from ivr.calls.spool import valid_sid
from ivr.calls.timeline import timeline
from ivr.console.web import bp, now, state
from ivr.numbers import normalise

COLUMNS = ("started_at", "line", "from", "keys", "service", "route", "outcome", "accepted_by", "call_sid")
LIMIT = 500


def filter_moment(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    """Return an ISO date or time from a filter field (local time without an offset), None when empty."""
    if not text:
        return None
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        abort(400, f"{text!r} is not a date or time like 2026-12-24T08:00")
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


def filtered() -> tuple[list[dict], dict]:
    """Return (records, filter) for the request's ?line=&service=&since=&until=&caller=, newest first."""
    config = state().config
    f = {k: (request.args.get(k) or "").strip() for k in ("line", "service", "since", "until", "caller")}
    hotline = config.find(f["line"]) if f["line"] else None
    if f["line"] and hotline is None:
        abort(404, f"no hotline {f['line']}")
    tz = hotline.tz if hotline else (config.lines()[0].tz if config.lines() else dt.timezone.utc)
    since = filter_moment(f["since"], tz) or now() - dt.timedelta(days=7)
    until = filter_moment(f["until"], tz)
    lines = [hotline.line] if hotline else None
    try:
        records = state().store.recent(lines, since, limit=LIMIT)
    except RedisError:
        records = state().store.spooled(lines, since)
    caller = normalise(f["caller"]) if f["caller"] else ""
    out = []
    for r in records:
        if f["service"] and r.get("service") != f["service"]:
            continue
        if caller and caller not in (r.get("from") or ""):
            continue
        if until and (r.get("started_at") or "") > until.astimezone(dt.timezone.utc).isoformat():
            continue
        out.append(r)
    return out, f


@bp.get("/calls")
def calls_page():
    """The filtered call list, newest first."""
    records, f = filtered()
    services = sorted({s for h in state().config.lines() for s in h.plan.services})
    lines = state().config.lines()
    return render_template("calls.html", records=records, f=f, services=services, lines=lines,
                           by_line={h.line: h for h in lines})


@bp.get("/calls.csv")
def calls_csv():
    """The filtered call list as CSV (one row per call, the columns of COLUMNS)."""
    records, _f = filtered()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in records:
        row = {**r, "keys": " ".join(r.get("keys") or [])}
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
    stamp = f"{now():%Y%m%d-%H%M}"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="calls-{stamp}.csv"'})


def _cell(value) -> str:
    """Return a CSV cell; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "@", "+", "-") and not text[1:2].isdigit() else text


@bp.get("/calls/<sid>")
def call_page(sid: str):
    """One call: its timeline as `hotline calls --show` prints it, and its voicemail when there is one."""
    if not valid_sid(sid):
        abort(404)
    record = state().store.record(sid)
    if record is None:
        abort(404)
    from ivr.console.pages_incidents import of_call

    hotline = state().config.find(record.get("line"))
    return render_template("call.html", record=record, lines=timeline(record, hotline), incident=of_call(sid))
