"""One call's record as a readable timeline (`hotline calls --show SID`).

Pure formatting: takes a folded record (ivr.calls.events.fold) and, when the config knows the
call's hotline, that hotline (for its time zone, menu prompts and contact names). Steps count
from 1 as `hotline route` prints them; the record keeps them 0-based (`attempts[].step`).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from ivr.hotline import Hotline
from ivr.menus import nav
from ivr.menus.model import CodeEntry, Menu, Option, OptionKind

NO_KEY = "(no key)"
_RESULTS = {
    "ok": "", "invalid": "wrong key", "timeout": "no key in time", "repeat": "repeat the prompt",
    "default": "retries used up: the default",
}


def step_label(step: object, steps: int | None = None) -> str:
    """Return how a person reads a stored attempt's step: "step 1" for index 0, "then" for the
    exhausted dial (index == number of steps, when known), else the stored text ("fallback")."""
    if isinstance(step, bool) or not isinstance(step, int):
        return str(step) if step not in (None, "") else "step ?"
    if steps is not None and step >= steps:
        return "then"
    return f"step {step + 1}"


def key_text(key: str | None, digits: str | None = None) -> str:
    """Return a key entry as a person reads it: "~" (the menu's default after no usable key) and
    an empty entry read "(no key)"."""
    if key == nav.DEFAULT_ENTRY or (key is None and not digits):
        return NO_KEY
    return key if key is not None else str(digits)


def _zone(record: dict, hotline: Hotline | None) -> dt.tzinfo | None:
    if hotline is not None:
        return hotline.tz
    at = (record.get("decision") or {}).get("at")  # the decision's moment carries the local offset
    try:
        return dt.datetime.fromisoformat(at).tzinfo if at else None
    except ValueError:
        return None


def _time(iso: str | None, zone: dt.tzinfo | None) -> str:
    """Return an event time as local HH:MM:SS (UTC when the zone is unknown)."""
    if not iso:
        return "--:--:--"
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone(zone or dt.timezone.utc):%H:%M:%S}"


def _moment(iso: str | None, zone: dt.tzinfo | None, hotline: Hotline | None) -> str:
    """Return "YYYY-MM-DD HH:MM:SS UTC (HH:MM:SS CET, Europe/Copenhagen)" for a record time."""
    if not iso:
        return "-"
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    text = f"{moment.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    if zone is not None:
        local = moment.astimezone(zone)
        where = f", {hotline.tz.key}" if hotline is not None else ""
        name = local.tzname() or local.strftime("%z")
        text += f"  ({local:%Y-%m-%d %H:%M:%S} {name}{where})"
    return text


def _prompt_at(hotline: Hotline | None, menu: str | None):
    """Return the prompt (Menu or CodeEntry) at a logged menu position, or None."""
    if hotline is None:
        return None
    path = nav.decode(menu)
    return nav.locate(hotline.menu, path) if path is not None else None


def _option_text(option: Option | None, hotline: Hotline) -> str:
    """Return what a chosen option leads to, in words."""
    landing = nav.follow(option)
    label = option.label if option is not None and option.label else ""
    final = landing.final
    if final is not None and final.kind is OptionKind.SERVICE:
        service = hotline.plan.services.get(final.service)
        what = f"service {final.service}" + (f" ({service.name})" if service is not None else "")
    elif final is not None and final.kind is OptionKind.STAFF:
        what = "the staff entry"
    elif isinstance(landing.prompt, Menu):
        what = f"menu: \"{_short(landing.prompt.prompt)}\""
    elif isinstance(landing.prompt, CodeEntry):
        what = f"code entry: \"{_short(landing.prompt.prompt)}\""
    else:
        what = "a message, then the call ends"
    return f"{label}: {what}" if label else what


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width].rsplit(" ", 1)[0] + "…"


def _entry_line(entry: dict, hotline: Hotline | None, zone: dt.tzinfo | None) -> str:
    """Return one menu entry: time, where (and its prompt when known), keys, what they meant."""
    where = entry.get("menu") or ""
    prompt = _prompt_at(hotline, where)
    place = "top menu" if not where else f"menu {where.replace('.', '/')}"
    if prompt is not None:
        place += f" \"{_short(prompt.prompt)}\""
    key = key_text(entry.get("key"), entry.get("digits"))
    if entry.get("result") in ("invalid", "timeout", "repeat"):
        key = entry.get("digits") or NO_KEY
    result = entry.get("result") or ""
    meaning = _RESULTS.get(result, result)
    if hotline is not None and prompt is not None and result in ("ok", "default"):
        option = _chosen(prompt, entry.get("key"))
        if option is not None:
            meaning = (meaning + " -> " if meaning else "-> ") + _option_text(option, hotline)
    return f"  {_time(entry.get('at'), zone)}  {place}: {key}" + (f"  {meaning}" if meaning else "")


def _chosen(prompt, key: str | None) -> Option | None:
    if isinstance(prompt, Menu):
        return prompt.default if key == nav.DEFAULT_ENTRY else prompt.options.get(key or "")
    return prompt.next


def _who(numbers: Iterable[str], names: Iterable[str], hotline: Hotline | None) -> str:
    known = {c.number: c.name for c in hotline.contacts.values()} if hotline is not None else {}
    names = list(names or [])
    out = []
    for i, number in enumerate(numbers or []):
        name = names[i] if i < len(names) and names[i] else known.get(number)
        out.append(f"{name} {number}" if name and name != number else number)
    return ", ".join(out) or "-"


def attempt_line(attempt: dict, steps: int | None, hotline: Hotline | None = None,
                 zone: dt.tzinfo | None = None) -> str:
    """Return one dial attempt: time, step (from 1), who was rung, how it went, who took it."""
    bits = [attempt.get("status") or "unknown"]
    if attempt.get("screened"):
        bits.append("screened")
    if attempt.get("duration"):
        bits.append(f"{attempt['duration']} s")
    took = f", taken by {attempt['accepted_by']}" if attempt.get("accepted_by") else ""
    return (f"  {_time(attempt.get('at'), zone)}  {step_label(attempt.get('step'), steps):8} "
            f"{_who(attempt.get('numbers'), attempt.get('names'), hotline)}: {', '.join(bits)}{took}")


def timeline(record: dict, hotline: Hotline | None = None) -> list[str]:
    """Return the lines of a call's timeline; times of the day are the hotline's local time when
    the zone is known (from `hotline`, else from the frozen decision), otherwise UTC."""
    zone = _zone(record, hotline)
    name = record.get("hotline") or (hotline.name if hotline is not None else "")
    lines = [f"call      {record.get('call_sid')}",
             f"line      {record.get('line') or '-'}" + (f" {name}" if name else ""),
             f"from      {record.get('from') or '-'}",
             f"started   {_moment(record.get('started_at'), zone, hotline)}",
             f"ended     {_moment(record.get('ended_at'), zone, hotline)}"]
    if zone is None:
        lines.append("          (the hotline is not in the config: times below are UTC)")
    for words in record.get("announced") or []:
        lines.append(f"announced \"{_short(words, 100)}\"")
    entries = record.get("entries") or []
    lines.append("menu" + ("" if entries else "      no key entries"))
    lines.extend(_entry_line(e, hotline, zone) for e in entries)
    decision = record.get("decision") or {}
    if record.get("service"):
        lines.append(f"decision  {record['service']} ({record.get('service_name') or '?'}) -> "
                     f"{decision.get('route') or record.get('route') or '?'}: "
                     f"{decision.get('target_name') or decision.get('target') or '?'}")
        lines.append(f"  reason  {decision.get('reason') or '-'}")
        lines.append(f"  config  {decision.get('config_version') or '-'}")
    steps = len(decision["steps"]) if isinstance(decision.get("steps"), list) else None
    attempts = record.get("attempts") or []
    if attempts:
        lines.append("dialled")
        lines.extend(attempt_line(a, steps, hotline, zone) for a in attempts)
    lines.append(f"accepted  {record.get('accepted_by') or '-'}")
    if record.get("recording_url"):
        length = f" ({record['recording_duration']} s)" if record.get("recording_duration") else ""
        lines.append(f"recording {record['recording_url']}{length}")
    detail = f" ({_short(record['detail'], 80)})" if record.get("detail") else ""
    lines.append(f"outcome   {record.get('outcome') or '-'}{detail}")
    extra = record.get("extra") or {}
    if extra.get("outage_id"):
        system = f" ({extra['outage_system']})" if extra.get("outage_system") else ""
        lines.append(f"outage    {extra['outage_id']}{system}  (hotline outage show {extra['outage_id']})")
    return lines
