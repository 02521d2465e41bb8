"""Console pages "Now" (who answers each service, open outages) and "Week" (the SVG week picture)."""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, render_template, request
from markupsafe import Markup
from redis import RedisError

from ivr import week_svg
from ivr.console.now import parse_moment, services_now
from ivr.console.web import _, bp, now, redis, state
from ivr.hotline import Hotline
from ivr.outages.store import OutageStore


def hotlines(line: str | None = None) -> list[Hotline]:
    """Return the config's hotlines, or only the one called on `line` (404 when unknown)."""
    config = state().config
    if not line:
        return config.lines()
    found = config.find(line)
    if found is None:
        abort(404, f"no hotline {line}")
    return [found]


def open_outages(hotline: Hotline) -> list:
    """Return the hotline's open outages (empty when Redis fails: the page still shows routing)."""
    try:
        return OutageStore(redis()).open_outages(hotline.line, list(hotline.systems))
    except RedisError:
        return []


@bp.get("/")
def now_page():
    """Per hotline and service: who answers at the moment (?at= ISO, local time) and until when."""
    text = request.args.get("at", "").strip()
    blocks, error = [], None
    for hotline in hotlines(request.args.get("line")):
        try:
            at = parse_moment(text, hotline, now()).astimezone(hotline.tz)
        except ValueError:
            error, at = _("Moment") + f": {text!r}?", now().astimezone(hotline.tz)
        blocks.append({"hotline": hotline, "at": at, "rows": services_now(hotline, at),
                       "outages": open_outages(hotline)})
    from ivr.console.pages_incidents import waiting

    line = request.args.get("line")
    missed = waiting(hotlines(line)[0].line if line else None)
    return render_template("now.html", blocks=blocks, at_text=text, error=error, waiting=missed), \
        400 if error else 200


def _monday(text: str | None, hotline: Hotline) -> dt.date:
    if text:
        try:
            year, num = text.upper().split("-W")
            return dt.date.fromisocalendar(int(year), int(num), 1)
        except ValueError:
            abort(400, f"week {text!r} is not an ISO week like 2026-W52")
    return week_svg.monday_of(now().astimezone(hotline.tz).date())


def _week_name(monday: dt.date) -> str:
    year, num, _day = monday.isocalendar()
    return f"{year}-W{num:02d}"


@bp.get("/week")
def week_page():
    """The week picture of every hotline (or ?line=) for ?week=YYYY-Www (default: this week)."""
    pictures = []
    for hotline in hotlines(request.args.get("line")):
        monday = _monday(request.args.get("week"), hotline)
        svg = Markup(week_svg.render(hotline, monday, now()))  # built from escaped parts
        pictures.append({"hotline": hotline, "svg": svg, "week": _week_name(monday),
                         "previous": _week_name(monday - 7 * week_svg.DAY),
                         "next": _week_name(monday + 7 * week_svg.DAY),
                         "notes": [(monday + i * week_svg.DAY, week_svg.day_notes(hotline, monday + i * week_svg.DAY))
                                   for i in range(7)]})
    return render_template("week.html", pictures=pictures, line=request.args.get("line", ""))


@bp.get("/week.svg")
def week_svg_file():
    """One hotline's week picture as an SVG file (?line=, ?week=), as `hotline schedule --svg` writes it."""
    hotline = hotlines(request.args.get("line"))[0]
    monday = _monday(request.args.get("week"), hotline)
    return Response(week_svg.render(hotline, monday, now()), mimetype="image/svg+xml")
