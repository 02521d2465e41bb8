"""Console config pages (admins only): what is loaded, a "what if" form, and a preview of an edited file.

The "what if" answer is `hotline route`'s (ivr.menus.nav.walk + routing.decide); the preview loads
the text as `hotline check` does (ivr.config.load_text) and draws week pictures before and after.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, render_template, request
from markupsafe import Markup

from ivr import week_svg
from ivr.config.errors import ConfigErrors
from ivr.config.load import load_text
from ivr.console.now import parse_moment
from ivr.console.pages_now import hotlines
from ivr.console.web import admin_only, bp, now, record, state
from ivr.menus.nav import walk
from ivr.webhook_guard import MAX_BODY_BYTES
from routing import decide

MAX_PREVIEW = MAX_BODY_BYTES  # no request body is larger (ivr.webhook_guard; a larger one gets the console's 413 page)


def _page(**extra):
    config = state().config
    return render_template("config.html", config=config,
                           loaded_at=current_app.extensions.get("hotline.console_loaded_at"),
                           refused=current_app.extensions.get("hotline.config_refused") or [],
                           lines=config.lines(), **extra)


@bp.get("/config")
@admin_only
def config_page():
    """Version, files, when loaded, the last refusal; the what-if and preview forms."""
    return _page()


@bp.post("/config/whatif")
@admin_only
def whatif():
    """Where a call with these keys goes at this moment: the decision and its reason."""
    hotline = hotlines(request.form.get("line"))[0]
    moment_text, keys_text = (request.form.get("at") or "").strip(), (request.form.get("keys") or "").strip()
    answer = {"line": hotline.line, "at": moment_text, "keys": keys_text}
    try:
        at = parse_moment(moment_text, hotline, now())
    except ValueError:
        return _page(whatif=answer, whatif_error=f"{moment_text!r} is not an ISO time like 2026-12-24T23:30"), 400
    entries = [e.strip() for e in keys_text.split(",") if e.strip()]
    walked = walk(hotline.menu, entries)
    if walked.service is None or walked.error:
        return _page(whatif=answer, whatif_error=f"keys {keys_text or '(none)'} do not reach a service: {walked.error}")
    return _page(whatif=answer, decision=decide(hotline.plan, walked.service, at), said=walked.said)


def _uploaded() -> tuple[str, str]:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_PREVIEW + 1)
        return data.decode("utf-8", errors="replace"), upload.filename.rsplit("/", 1)[-1][:100]
    return request.form.get("yaml") or "", "pasted.yaml"


@bp.post("/config/preview")
@admin_only
def preview():
    """Load a pasted or uploaded hotline file: its errors with line numbers, or the week before and after."""
    text, name = _uploaded()
    if len(text) > MAX_PREVIEW:
        return _page(preview_errors=[f"{name}: larger than {MAX_PREVIEW // 1024} KiB"]), 400
    record("config preview", f"{name} ({len(text)} characters)")
    try:
        after = load_text(text, name)
    except ConfigErrors as exc:
        return _page(preview_errors=[str(e) for e in exc.errors], preview_text=text)
    before = state().config.find(after.line)
    week = request.form.get("week") or ""
    try:
        year, num = week.upper().split("-W")
        monday = dt.date.fromisocalendar(int(year), int(num), 1)
    except ValueError:
        monday = week_svg.monday_of(now().astimezone(after.tz).date())
    pictures = {"after": Markup(week_svg.render(after, monday, now()))}
    if before is not None:
        pictures["before"] = Markup(week_svg.render(before, monday, now()))
    return _page(preview_ok=after, preview_warnings=list(after.warnings), pictures=pictures, preview_text=text,
                 preview_week=f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}")
