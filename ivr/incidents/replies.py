"""SMS replies from people who were paged: `OK`, `OK 17`, `DONE 17`; anything else gets help.

A reply from a number that was never paged changes nothing and is logged (no answer is sent:
we do not talk to strangers). Numbers refer to the incidents this number was paged about, so
`OK 17` never reaches another hotline's 17 the person never heard of.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from redis import Redis

from ivr.incidents import service, texts
from ivr.incidents.alerts import AlertStore
from ivr.incidents.store import IncidentStore

log = logging.getLogger(__name__)
_COMMAND = re.compile(r"^(OK|DONE|KLAR|KLART|FÆRDIG|FÄRDIG)\W*(\d{1,9})?[.!]*$")
_DONE = {"DONE", "KLAR", "KLART", "FÆRDIG", "FÄRDIG"}


def parse(body: str) -> tuple[str, int | None]:
    """Return ("ok" | "done", incident number or None), or ("help", None) for anything else."""
    text = " ".join((body or "").upper().split())
    match = _COMMAND.match(text)
    if match is None:
        return "help", None
    command = "done" if match.group(1) in _DONE else "ok"
    return command, int(match.group(2)) if match.group(2) else None


def handle(redis: Redis, sender: str, body: str, now: dt.datetime) -> str | None:
    """Act on a reply from `sender` (E.164); returns the text to answer, None to answer nothing.

    Raises redis errors.
    """
    alerts = AlertStore(redis)
    paged = alerts.paged(sender)
    if not paged:
        log.warning("SMS from %s, who was never paged: %r (ignored)", sender, (body or "")[:40])
        return None
    command, number = parse(body)
    snap = (alerts.get(*paged[0]) or {}).get("snapshot", {})
    language = snap.get("language") or "en"
    if command == "help":
        return texts.reply(language, "help")
    found = _find(alerts, paged, number)
    if found is None:
        return texts.reply(language, "unknown", n=number)
    line, number, snap = found
    language = snap.get("language") or language
    by = service.name_of(snap, sender)
    if command == "done":
        change = service.resolve(redis, line, number, by, now, "", by_number=sender)
        if change.status == "missing":
            return texts.reply(language, "unknown", n=number)
        log.info("incident %s/%s resolved by SMS from %s", line, number, sender)
        return texts.reply(language, "done", n=number)
    change = service.acknowledge(redis, line, number, by, now, by_number=sender)
    if change.status == "ok":
        log.info("incident %s/%s acknowledged by SMS from %s (%d call(s))", line, number, sender, change.count)
        if change.count > 1:
            return texts.reply(language, "ack_many", n=number, count=change.count)
        return texts.reply(language, "ack", n=number, caller=texts.caller(change.incident or {}))
    if change.status == "resolved":
        return texts.reply(language, "done", n=number)
    if change.status == "missing":
        return texts.reply(language, "unknown", n=number)
    return texts.reply(language, "already", n=number, by=change.by or "?")


def _find(alerts: AlertStore, paged: list[tuple[str, int]], number: int | None) -> tuple[str, int, dict] | None:
    """Return (line, incident, alert snapshot) meant by the reply: the latest page's first call
    for a bare OK, else the newest paged alert holding incident `number`."""
    for line, lead in paged:
        members = alerts.members(line, lead)
        if number is None or number in members:
            alert = alerts.get(line, lead) or {"snapshot": {}}
            chosen = number if number is not None else lead
            if IncidentStore(alerts.redis).get(line, chosen) is None:
                return None
            return line, chosen, alert["snapshot"]
    return None
