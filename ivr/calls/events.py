"""Call events and the fold that turns a call's events into its record (the incident).

An event is a small JSON-ready dict: `id` (a deterministic dedup key, so a repeated Twilio
callback or a replayed spool adds nothing twice), `sid`, `type`, `at` (ISO 8601 UTC) and data.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum


class Outcome(str, Enum):
    """How a call ended (as far as we know); `in_progress` until something final happened."""

    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"          # someone took the call (a screened step: pressed 1)
    VOICEMAIL = "voicemail"        # the chain ended in a recording
    MESSAGE = "message"            # the chain ended in a spoken message
    NO_ANSWER = "no_answer"        # even the exhausted-dial number did not answer
    ABANDONED = "abandoned"        # the caller hung up while a step was ringing
    HUNG_UP = "hung_up"            # the caller hung up in the menu
    SAID = "said"                  # a menu option that only speaks a message
    STAFF = "staff"                # handed to the staff entry (outage declare/restore)
    FALLBACK = "fallback"          # Twilio's fallback URL answered: dialled the fallback number
    UNKNOWN_LINE = "unknown_line"  # To is not one of our hotlines
    ERROR = "error"                # the app failed; the caller got an apology and the fallback


def utc_iso(moment: dt.datetime) -> str:
    """Return an aware datetime as ISO 8601 in UTC (seconds precision).

    The last second's text is kept: a webhook's events, and those of the webhooks around it,
    mostly fall in the same second, and working the text out costs five times the lookup.
    """
    global _last_second
    stamp = moment.timestamp()
    last = _last_second   # (second, text), swapped whole: threads read one or the other
    if last[0] == stamp // 1:
        return last[1]
    text = moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()
    if -KEPT_SECONDS_BOUND < stamp < KEPT_SECONDS_BOUND:   # whole seconds exact as floats there
        _last_second = (stamp // 1, text)
    return text


KEPT_SECONDS_BOUND = 2.0 ** 32   # seconds from 1970 (to 2106) within which a moment's float keeps its
                                 # microseconds apart from the next whole second
_last_second: tuple[float, str] = (float("nan"), "")


END_ID = "end:end"   # the id of a call's end event: event(sid, line, "end", "end", ...) (the status callback)


def event(sid: str, line: str, kind: str, dedup: str, at: dt.datetime, **data) -> dict:
    """Return a new event; `dedup` is unique per call for one real-world happening."""
    return {"id": f"{kind}:{dedup}", "sid": sid, "line": line, "type": kind, "at": utc_iso(at), **data}


def empty_record(sid: str) -> dict:
    """Return the record of a call we know nothing about yet."""
    return {
        "call_sid": sid, "line": None, "hotline": None, "from": None, "to": None,
        "started_at": None, "ended_at": None, "keys": [], "entries": [], "announced": [],
        "service": None, "service_name": None, "route": None, "decision": None,
        "attempts": [], "accepted_by": None, "recording_url": None, "recording_duration": None,
        "outcome": Outcome.IN_PROGRESS.value, "detail": None, "extra": {},
    }


def fold(sid: str, events: list[dict]) -> dict:
    """Return the call record built from `events` (duplicates by id ignored, order by time kept)."""
    record = empty_record(sid)
    seen: set[str] = set()
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1].get("at", ""), pair[0]))
    for _, ev in ordered:
        if ev.get("id") in seen:
            continue
        seen.add(ev.get("id"))
        _apply(record, ev)
    if record["ended_at"] is None and record["outcome"] != Outcome.IN_PROGRESS.value:
        record["ended_at"] = record.get("_final_at")
    record.pop("_final_at", None)
    return record


def _apply(record: dict, ev: dict) -> None:
    kind = ev.get("type")
    record["line"] = record["line"] or ev.get("line")
    if kind == "start":
        for field in ("hotline", "from", "to"):
            record[field] = ev.get(field)
        record["started_at"] = ev["at"]
        record["announced"] = list(ev.get("announced", []))
    elif kind == "entry":
        record["entries"].append({k: ev.get(k) for k in ("at", "menu", "digits", "result", "key")})
        if ev.get("key") is not None:
            record["keys"].append(ev["key"])
    elif kind == "service":
        decision = ev.get("decision") or {}
        record.update(service=ev.get("service"), service_name=decision.get("service_name"),
                      route=decision.get("route"), decision=decision)
        record["extra"].update(ev.get("extra") or {})
    elif kind == "attempt":
        attempt = {k: ev.get(k) for k in ("at", "step", "numbers", "names", "status", "screened",
                                          "accepted_by", "duration")}
        record["attempts"].append(attempt)
        if ev.get("accepted_by"):
            record["accepted_by"] = ev["accepted_by"]
    elif kind == "accept":
        record["accepted_by"] = record["accepted_by"] or ev.get("number")
    elif kind == "recording":
        record["recording_url"] = ev.get("url") or record["recording_url"]
        record["recording_duration"] = ev.get("duration") or record["recording_duration"]
    elif kind == "outcome":
        record["outcome"], record["detail"] = ev.get("outcome"), ev.get("detail")
        record["_final_at"] = ev["at"]
    elif kind == "fallback":
        record.update(started_at=record["started_at"] or ev["at"], **{"from": record["from"] or ev.get("from")})
    elif kind == "end":
        record["ended_at"] = ev["at"]
        if record["outcome"] == Outcome.IN_PROGRESS.value:
            record["outcome"] = (Outcome.ABANDONED if record["service"] else Outcome.HUNG_UP).value
    if record["started_at"] is None:
        record["started_at"] = ev.get("at")


def accepted_steps(events: list[dict], line: str) -> dict[int, str]:
    """Return {step index: accepting number} from a call's `accept` events on hotline `line`."""
    out: dict[int, str] = {}
    for ev in events:
        if ev.get("type") == "accept" and ev.get("line") == line and isinstance(ev.get("step"), int):
            out.setdefault(ev["step"], ev.get("number") or "")
    return out


def frozen_decision(events: list[dict], line: str) -> dict | None:
    """Return the decision the call follows on hotline `line`: that of its newest `service` event
    of that line (by time, then log order, as `fold` applies them; Twilio repeats a post only when
    it did not get the answer to the earlier one), or None. A CallSid seen on another line never
    lends its chain."""
    found = None
    for ev in sorted(events, key=lambda e: e.get("at", "")):
        if ev.get("type") == "service" and ev.get("line") == line and ev.get("decision"):
            found = ev["decision"]
    return found
