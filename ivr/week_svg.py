"""A week of a hotline as an SVG picture: one lane per service, coloured by route kind.

Rendered from the pure core (routing.timeline.segments), for the console and for
`hotline schedule --svg FILE`. Time runs true: a day is as wide as it is long, so the days
clocks change are 23 and 25 hours wide. Holidays, eves and dated overrides are named above
their day. Colours are presentation attributes (no <style>), so the picture stands alone and
passes a strict Content-Security-Policy when inlined in a page.
"""
from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from ivr.hotline import Hotline
from routing.model import RouteKind
from routing.timeline import segments

DAY = dt.timedelta(days=1)
COLOURS = {RouteKind.SERVICE_DESK: "#2f6fb3", RouteKind.ON_CALL: "#d08a12",
           RouteKind.EMERGENCY: "#c0392b", RouteKind.CLOSED: "#9aa5b1"}
LABELS = {RouteKind.SERVICE_DESK: "service desk", RouteKind.ON_CALL: "on call",
          RouteKind.EMERGENCY: "emergency", RouteKind.CLOSED: "closed"}
_WIDTH, _LEFT, _RIGHT = 1000, 170, 10
_TOP, _HEAD, _LANE, _GAP = 30, 44, 30, 6


def monday_of(day: dt.date) -> dt.date:
    """Return the Monday of `day`'s ISO week."""
    return day - day.weekday() * DAY


def day_notes(hotline: Hotline, day: dt.date, services=None) -> list[str]:
    """Return what is special about `day`: its holiday or eve, and dated overrides of the services'
    schedules (every service when `services` is None), each name once."""
    notes: list[str] = []
    holiday = hotline.calendar.name(day)
    if holiday:
        notes.append(holiday)
    elif hotline.calendar.eve_of(day):
        notes.append(f"eve of {hotline.calendar.eve_of(day)}")
    for service in services if services is not None else hotline.plan.services.values():
        for rule in service.rules:
            for override in rule.schedule.day_overrides:
                if override.covers(day) and override.name not in notes:
                    notes.append(override.name)
            for timed in rule.schedule.time_overrides:
                if timed.start.date() <= day <= timed.end.date() and timed.name not in notes:
                    notes.append(timed.name)
    return notes


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(1, chars - 1)] + "…"


def render(hotline: Hotline, monday: dt.date, now: dt.datetime | None = None) -> str:
    """Return the SVG document (text) of the ISO week starting `monday` for every service of `hotline`.

    `now` (aware) draws a "now" line when it falls inside the week.
    """
    tz = hotline.tz
    # In UTC: subtracting two datetimes of the same zone would count wall-clock hours (24 on a 23 h day).
    midnights = [dt.datetime.combine(monday + i * DAY, dt.time(), tz).astimezone(dt.timezone.utc)
                 for i in range(8)]
    start, end = midnights[0], midnights[7]
    span = (end - start).total_seconds()
    inner = _WIDTH - _LEFT - _RIGHT
    services = list(hotline.plan.services.values())
    height = _TOP + _HEAD + len(services) * (_LANE + _GAP) + 40

    def x(moment: dt.datetime) -> float:
        return round(_LEFT + (moment.astimezone(dt.timezone.utc) - start).total_seconds() / span * inner, 2)

    year, week, _ = monday.isocalendar()
    title = f"{hotline.name} {hotline.line}: week {year}-W{week:02d} ({tz.key})"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
           f'height="{height}" role="img" aria-labelledby="wk-{hotline.line[1:]}-{year}{week:02d}" '
           f'font-family="sans-serif" font-size="11" class="week-picture">',
           f'<title id="wk-{hotline.line[1:]}-{year}{week:02d}">{escape(title)}</title>',
           f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    lanes_top, lanes_bottom = _TOP + _HEAD, _TOP + _HEAD + len(services) * (_LANE + _GAP)
    for i in range(7):
        day, left, right = monday + i * DAY, x(midnights[i]), x(midnights[i + 1])
        hours = round((midnights[i + 1] - midnights[i]).total_seconds() / 3600)
        notes = day_notes(hotline, day, services)
        special = bool(hotline.calendar.name(day))
        fill = "#fdecec" if special else ("#fff7e0" if notes else ("#f4f6f8" if i % 2 else "#ffffff"))
        out.append(f'<rect x="{left}" y="{_TOP}" width="{round(right - left, 2)}" '
                   f'height="{lanes_bottom - _TOP}" fill="{fill}" stroke="#d0d7de"/>')
        label = f"{day:%a %d %b}" + (f" ({hours} h)" if hours != 24 else "")
        out.append(f'<text x="{left + 4}" y="{_TOP + 14}" font-weight="bold">{escape(label)}</text>')
        chars = int((right - left) / 6)
        for j, note in enumerate(notes[:2]):
            out.append(f'<text x="{left + 4}" y="{_TOP + 28 + j * 12}" font-size="10" fill="#8a1c1c" '
                       f'class="day-note"><title>{escape(note)}</title>{escape(_short(note, chars))}</text>')
        for hour in (6, 12, 18):
            tick = x(dt.datetime.combine(day, dt.time(hour), tz))
            out.append(f'<line x1="{tick}" y1="{_TOP + _HEAD - 6}" x2="{tick}" y2="{lanes_bottom}" '
                       f'stroke="#c8ced6" stroke-dasharray="2,3"/>')
        if hours != 24:
            out.append(f'<text x="{left + 4}" y="{lanes_bottom + 14}" font-size="10" fill="#555">'
                       f'{"clocks go forward" if hours < 24 else "clocks go back"}</text>')
    for n, service in enumerate(services):
        top = lanes_top + n * (_LANE + _GAP)
        out.append(f'<text x="4" y="{top + 13}" font-weight="bold">{escape(_short(service.id, 26))}</text>')
        out.append(f'<text x="4" y="{top + 25}" font-size="10" fill="#444">{escape(_short(service.name, 28))}</text>')
        for seg in segments(hotline.plan, service.id, start.astimezone(tz), end.astimezone(tz)):
            left, right = x(seg.start), x(seg.end)
            kind = seg.target.kind
            tip = (f"{service.name}: {seg.start:%a %H:%M}-{seg.end:%a %H:%M} {seg.target.name} "
                   f"({LABELS.get(kind, kind.value)})")
            out.append(f'<g class="segment {kind.value}" data-route={quoteattr(kind.value)}>'
                       f'<title>{escape(tip)}</title><rect x="{left}" y="{top}" width="{max(0.5, round(right - left, 2))}"'
                       f' height="{_LANE}" fill="{COLOURS.get(kind, "#777")}" stroke="#ffffff" stroke-width="0.5"/>')
            if right - left > 40:
                out.append(f'<text x="{left + 3}" y="{top + 19}" fill="#ffffff" font-size="10">'
                           f'{escape(_short(seg.target.name, int((right - left - 6) / 5.5)))}</text>')
            out.append("</g>")
    if now is not None and start <= now < end:
        at = x(now)
        out.append(f'<line x1="{at}" y1="{_TOP}" x2="{at}" y2="{lanes_bottom}" stroke="#000000" '
                   f'stroke-width="2" class="now-line"/>'
                   f'<text x="{at + 3}" y="{_TOP - 4}" font-size="10">now {now.astimezone(tz):%H:%M}</text>')
    legend_y = lanes_bottom + 26
    lx = _LEFT
    for kind in RouteKind:
        out.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{COLOURS[kind]}"/>'
                   f'<text x="{lx + 16}" y="{legend_y}">{LABELS[kind]}</text>')
        lx += 110
    out.append("</svg>")
    return "\n".join(out)
