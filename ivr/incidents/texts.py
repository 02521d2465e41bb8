"""The SMS texts of incidents (notification, "taken by", replies) in Danish, Swedish and English.

Pure: every function takes the values it shows and returns text. Times are shown in the
hotline's zone; a call from another day carries its date.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TEXTS = {
    "da": {
        "one": "Ubesvaret opkald {n} til {hotline}, {service}, {time} fra {caller}. Talebesked: {voicemail}. Svar OK {n}",
        "many": "{count} ubesvarede opkald til {hotline}, {service}, siden {time}: {calls}. "
                "Talebeskeder: {voicemails}. Svar OK {n}",
        "reminder": "Påmindelse: ",
        "yes": "ja", "no": "nej", "more": "og {count} flere", "from": "{n} fra {caller}",
        "at": "kl. {hm}", "on": "{day} kl. {hm}",
        "taken": "Opkald {n} til {hotline} er taget af {by}.",
        "taken_many": "De {count} opkald til {hotline} ({n} m.fl.) er taget af {by}.",
        "ack": "Tak. Opkald {n} er dit ({caller}).",
        "ack_many": "Tak. De {count} opkald ({n} m.fl.) er dine.",
        "already": "Opkald {n} er allerede taget af {by}.",
        "done": "Opkald {n} er lukket.",
        "unknown": "Opkald {n} er ikke blandt dem, du har fået besked om.",
        "help": "Svar OK for det seneste opkald, OK 17 for opkald 17, DONE 17 når det er klaret.",
    },
    "sv": {
        "one": "Obesvarat samtal {n} till {hotline}, {service}, {time} från {caller}. Röstmeddelande: {voicemail}. "
               "Svara OK {n}",
        "many": "{count} obesvarade samtal till {hotline}, {service}, sedan {time}: {calls}. "
                "Röstmeddelanden: {voicemails}. Svara OK {n}",
        "reminder": "Påminnelse: ",
        "yes": "ja", "no": "nej", "more": "och {count} till", "from": "{n} från {caller}",
        "at": "kl. {hm}", "on": "{day} kl. {hm}",
        "taken": "Samtal {n} till {hotline} har tagits av {by}.",
        "taken_many": "De {count} samtalen till {hotline} ({n} m.fl.) har tagits av {by}.",
        "ack": "Tack. Samtal {n} är ditt ({caller}).",
        "ack_many": "Tack. De {count} samtalen ({n} m.fl.) är dina.",
        "already": "Samtal {n} har redan tagits av {by}.",
        "done": "Samtal {n} är avslutat.",
        "unknown": "Samtal {n} är inte bland dem du har fått besked om.",
        "help": "Svara OK för det senaste samtalet, OK 17 för samtal 17, DONE 17 när det är klart.",
    },
    "en": {
        "one": "Missed call {n} to {hotline}, {service}, at {time} from {caller}. Voicemail: {voicemail}. Reply OK {n}",
        "many": "{count} missed calls to {hotline}, {service}, since {time}: {calls}. Voicemails: {voicemails}. "
                "Reply OK {n}",
        "reminder": "Reminder: ",
        "yes": "yes", "no": "no", "more": "and {count} more", "from": "{n} from {caller}",
        "at": "at {hm}", "on": "on {day} at {hm}",
        "taken": "Call {n} to {hotline} was taken by {by}.",
        "taken_many": "The {count} calls to {hotline} ({n} and others) were taken by {by}.",
        "ack": "Thanks. Call {n} is yours ({caller}).",
        "ack_many": "Thanks. The {count} calls ({n} and others) are yours.",
        "already": "Call {n} was already taken by {by}.",
        "done": "Call {n} is closed.",
        "unknown": "Call {n} is not one you were told about.",
        "help": "Reply OK for the latest call, OK 17 for call 17, DONE 17 when it is done.",
    },
}
LISTED = 3  # a grouped notification names this many calls, then "and N more"
# Typographic characters outside the GSM 03.38 alphabet: one of them makes the whole SMS UCS-2
# (70 instead of 160 characters a segment). æ ø å ä ö é are in the alphabet and stay.
_PLAIN = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                        "\u201d": '"', "\u2026": "...", "\u00a0": " "})


def plain(text: str) -> str:
    """Return `text` with dashes, curly quotes and ellipses as their GSM-7 equivalents."""
    return text.translate(_PLAIN)


def table(language: str | None) -> dict[str, str]:
    """Return the texts for a language tag like "da-DK" (English when unknown)."""
    return TEXTS.get((language or "en").split("-")[0].lower(), TEXTS["en"])


def local_time(iso: str | None, tz: ZoneInfo, now: dt.datetime, language: str = "en") -> str:
    """Return "kl. 02:14" for a call within 12 hours of `now` (hotline zone), else "22/11 kl. 02:14"."""
    if not iso:
        return "?"
    t = table(language)
    at = dt.datetime.fromisoformat(iso).astimezone(tz)
    if abs(now - at) <= dt.timedelta(hours=12):
        return t["at"].format(hm=f"{at:%H:%M}")
    return t["on"].format(day=f"{at.day}/{at.month}", hm=f"{at:%H:%M}")


def caller(incident: dict) -> str:
    """Return the caller as shown: the site's name with its number, the number, or "ukendt"."""
    number = incident.get("from") or "?"
    name = incident.get("caller_name")
    return f"{name} {number}" if name else number


def notification(incidents: list[dict], hotline: str, language: str, tz: ZoneInfo, now: dt.datetime,
                 links: dict[int, str], reminder: bool = False) -> str:
    """Return the SMS about missed `incidents` (oldest first; the first is the one to answer).

    `links` maps incident numbers to a voicemail link the person can open.
    """
    t = table(language)
    lead = incidents[0]
    prefix = t["reminder"] if reminder else ""
    if len(incidents) == 1:
        link = links.get(lead["id"])
        voicemail = f"{t['yes']} {link}" if link else (t["yes"] if lead.get("recording_url") else t["no"])
        return plain(prefix + t["one"].format(n=lead["id"], hotline=hotline, service=lead.get("service_name") or "-",
                                        time=local_time(lead.get("started_at"), tz, now, language), caller=caller(lead),
                                        voicemail=voicemail))
    shown = [t["from"].format(n=i["id"], caller=caller(i)) for i in incidents[:LISTED]]
    if len(incidents) > LISTED:
        shown.append(t["more"].format(count=len(incidents) - LISTED))
    voicemails = [links.get(i["id"]) or str(i["id"]) for i in incidents if i.get("recording_url")]
    return plain(prefix + t["many"].format(count=len(incidents), hotline=hotline, service=lead.get("service_name") or "-",
                                     time=local_time(lead.get("started_at"), tz, now, language), calls=", ".join(shown),
                                     voicemails=" ".join(voicemails[:2]) + (" ..." if len(voicemails) > 2 else "")
                                     if voicemails else t["no"], n=lead["id"]))


def taken(language: str, hotline: str, lead: int, count: int, by: str) -> str:
    """Return the SMS telling the others that someone took the call(s)."""
    t = table(language)
    key = "taken" if count == 1 else "taken_many"
    return plain(t[key].format(n=lead, hotline=hotline, count=count, by=by))


def reply(language: str, key: str, **values: object) -> str:
    """Return a short SMS reply ("ack", "ack_many", "already", "done", "unknown", "help")."""
    return plain(table(language)[key].format(**values))
