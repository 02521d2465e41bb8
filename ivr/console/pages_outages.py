"""Console pages for outages: declare and restore (each with a confirmation step that shows the SMS
and its segment count), every blast's per-recipient delivery, and resending to those that gave up.

They go through ivr.outages.service and ivr.outages.resend, as `hotline outage` does.
"""
from __future__ import annotations

from flask import abort, flash, render_template, request
from redis import RedisError

from ivr.console.pages_now import hotlines
from ivr.console.web import _, back, bp, g, now, record, redis
from ivr.outages import report, resend, service
from ivr.outages.model import OutageState
from ivr.outages.store import OutageStore
from ivr.sms import segments
from ivr.sms.resend import GAVE_UP

_UNFINISHED = ("pending", "sending")


def _hotline():
    hotline = hotlines(request.form.get("line") or request.args.get("line"))[0]
    if hotline.outages is None:
        abort(400, f"hotline {hotline.line} has no outages: section in its config")
    return hotline


@bp.get("/outages")
def outages_page():
    """Per hotline with outages: the declare form, open outages (restore), and the latest outages."""
    blocks = []
    for hotline in hotlines(request.args.get("line")):
        if hotline.outages is None:
            continue
        store = OutageStore(redis())
        blocks.append({"hotline": hotline, "recent": store.list(hotline.line, 20),
                       "open": store.open_outages(hotline.line, list(hotline.systems))})
    return render_template("outages.html", blocks=blocks)


@bp.post("/outages/declare")
def declare():
    """Step 1 (no `confirm`): show the SMS, its segments and recipients. Step 2 (`confirm=1`): declare."""
    hotline = _hotline()
    system, message = request.form.get("system", ""), (request.form.get("message") or "").strip()[:300]
    if system not in hotline.systems:
        abort(400, f"unknown system {system!r}")
    if request.form.get("confirm") != "1":
        text = report.down_text(hotline, system, message, now())
        return render_template("outage_confirm.html", verb="declare", hotline=hotline, system=system,
                               message=message, text=text, count=segments.measure(text),
                               recipients=report.site_numbers(hotline))
    try:
        result = service.declare(redis(), hotline, system, message, f"console:{g.user}", now())
    except service.OutageError as exc:
        return render_template("refused.html", message=str(exc)), 409
    record("outage declare", f"{hotline.line} {system} outage {result.outage.id}"
           + ("" if result.changed else " (was open already)"))
    return back("console.outage_page", outage_id=result.outage.id)


@bp.post("/outages/restore")
def restore():
    """Step 1: show the "restored" SMS and who gets it. Step 2 (`confirm=1`): restore."""
    hotline = _hotline()
    system = request.form.get("system", "")
    if system not in hotline.systems:
        abort(400, f"unknown system {system!r}")
    store = OutageStore(redis())
    oid = store.open_id(hotline.line, system)
    if request.form.get("confirm") != "1":
        outage = store.get(oid) if oid else None
        if outage is None:
            return render_template("refused.html", message=f"no open outage of {system} on {hotline.line}"), 409
        text = report.restored_text(hotline, outage, now())
        from ivr.sms.blast import BlastStore

        told = BlastStore(redis()).numbers(service.blast_id(outage.id, service.BlastKind.DOWN))
        return render_template("outage_confirm.html", verb="restore", hotline=hotline, system=system,
                               message="", text=text, count=segments.measure(text),
                               recipients=told or report.site_numbers(hotline), outage=outage)
    try:
        result = service.restore(redis(), hotline, system, f"console:{g.user}", now())
    except service.OutageError as exc:
        return render_template("refused.html", message=str(exc)), 409
    record("outage restore", f"{hotline.line} {system} outage {result.outage.id}")
    return back("console.outage_page", outage_id=result.outage.id)


@bp.get("/outages/<outage_id>")
def outage_page(outage_id: str):
    """One outage: every blast with each recipient's state and Twilio status; refreshes while sending."""
    if not outage_id.isdigit():
        abort(404)
    try:
        data = report.show(redis(), outage_id)
    except RedisError:
        abort(503)
    if data is None:
        abort(404)
    running = any(r["state"] in _UNFINISHED or (r["state"] == "sent" and r["status"] in (None, "queued", "sent",
                                                                                         "sending", "accepted"))
                  for b in data["blasts"] for r in b["recipients"])
    gave_up = sum(1 for b in data["blasts"] for r in b["recipients"]
                  if r["state"] == "failed" and r["error_code"] == GAVE_UP)
    hotline = next(iter(h for h in hotlines() if h.line == data["line"]), None)
    return render_template("outage.html", o=data, running=running, gave_up=gave_up, hotline=hotline,
                           is_open=data["state"] == OutageState.OPEN.value)


@bp.post("/outages/<outage_id>/resend")
def resend_page(outage_id: str):
    """Queue the outage's blasts again for the recipients that gave up (each once)."""
    try:
        done = resend.resend(redis(), outage_id, f"console:{g.user}", now())
    except service.OutageError as exc:
        return render_template("refused.html", message=str(exc)), 409
    total = sum(len(r.numbers) for r in done)
    record("outage resend", f"outage {outage_id}: {total} queued again")
    flash(f"{_('Queued again')}: {total}")
    return back("console.outage_page", outage_id=outage_id)
