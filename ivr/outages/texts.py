"""Texts of outages: SMS bodies and spoken status, in the hotline's language.

Placeholders (see model.PLACEHOLDERS): {system} display name, {since} when it went down
(HH:MM, with the date when not today), {time} the moment of the message (HH:MM), {date} today's
date, {message} the free text given at declare, {minutes} how long it has been down,
{line} the hotline's number, {hotline} its name.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ANNOUNCEMENTS = {
    "da": "{system} har været nede siden klokken {since}. Vi arbejder på sagen. {message}",
    "sv": "{system} har legat nere sedan klockan {since}. Vi arbetar på det. {message}",
    "en": "{system} has been down since {since}; we are working on it. {message}",
}
_DATE_FORMATS = {"da": "%d.%m.%Y", "sv": "%Y-%m-%d", "en": "%Y-%m-%d"}


def lang(language: str) -> str:
    """Return the two-letter language of a tag like da-DK."""
    return language.split("-")[0].lower()


def fields(*, system: str, declared_at: dt.datetime, now: dt.datetime, tz: ZoneInfo, language: str,
           message: str = "", line: str = "", hotline: str = "") -> dict[str, str]:
    """Return the placeholder values for a text about an outage, as seen at `now`."""
    local_since, local_now = declared_at.astimezone(tz), now.astimezone(tz)
    date_format = _DATE_FORMATS.get(lang(language), "%Y-%m-%d")
    since = local_since.strftime("%H:%M")
    if local_since.date() != local_now.date():
        since = f"{local_since.strftime(date_format)} {since}"
    minutes = max(0, int((now - declared_at).total_seconds() // 60))
    return {
        "system": system, "since": since, "time": local_now.strftime("%H:%M"),
        "date": local_now.strftime(date_format), "message": message or "", "minutes": str(minutes),
        "line": line, "hotline": hotline,
    }


def render(template: str, values: dict[str, str]) -> str:
    """Return `template` with its placeholders filled, whitespace tidied.

    Raises KeyError for an unknown placeholder (config validation prevents that).
    """
    return " ".join(template.format_map(values).split())


def announcement(template: str | None, language: str, values: dict[str, str]) -> str:
    """Return the spoken status of one open outage (the config's text or the language's default)."""
    return render(template or ANNOUNCEMENTS.get(lang(language), ANNOUNCEMENTS["en"]), values)
