"""A service's routing decision worked out once per minute, for every call of that minute.

Schedules change on whole minutes, and the hotlines' time zones are whole minutes off UTC, so all
moments of one UTC minute get the same decision but for its `at` (the reason names the minute,
not the second). A UTC minute that is no one local minute (an offset with seconds, as local mean
time had, or a change of offset inside it) is decided moment by moment. In a surge, when a
declared outage brings many calls about one service at once, the minute's first call decides,
makes the escalation chain and the decision's logged text, and the others take them with their
own moment put in; a call alone costs what deciding costs. The
answers are those of deciding anew (tests/test_minute_decisions.py compares chain, dict and text
over random moments, the DST changes and holidays). Kept per plan object without keeping it alive
(ivr.kept): a reloaded config decides anew. The calls of a minute get their own top-level dict,
but share its nested values (steps, numbers): read-only, as the EncodedDict itself is.
"""
from __future__ import annotations

import datetime as dt

from ivr.calls.chain import Chain, chain_from_decision
from ivr.calls.event_json import ENCODER, EncodedDict, decision_dict
from ivr.hotline import Hotline
from ivr.kept import KeptPerObject
from routing import decide

KEPT = 512   # (service, minute) entries kept at most (then started again)
UTC = dt.timezone.utc
_kept = KeptPerObject(KEPT)


class _Minute:
    """What the minute's first call worked out: the chain, and the decision's dict and JSON text
    around its `at` (`before` is None when the text could not be split there); `local`: the
    minute's local time as text before its seconds and after them (the UTC offset), or None: then
    nothing else was worked out, as each moment decides."""

    __slots__ = ("chain", "data", "before", "after", "local")

    def __init__(self, chain: Chain | None, data: dict, before: str | None, after: str,
                 local: tuple[str, str] | None = None):
        self.chain, self.data, self.before, self.after, self.local = chain, data, before, after, local


def _worked_out(hotline: Hotline, service_id: str, at: dt.datetime) -> _Minute:
    local = _local_minute(at, hotline.plan.tz)
    if local is None:
        return _Minute(None, {}, None, "")
    made = decide(hotline.plan, service_id, at)
    data = decision_dict(made)
    text = getattr(data, "json", None)
    at_json = '"at":' + ENCODER.encode(data.get("at"))
    if text is None or text.count(at_json) != 1:
        return _Minute(chain_from_decision(made), data, None, "", local)
    before, _, after = text.partition(at_json)
    return _Minute(chain_from_decision(made), dict(data), before + '"at":', after, local)


MINUTE = dt.timedelta(minutes=1)


def _local_minute(at: dt.datetime, tz: dt.tzinfo) -> tuple[str, str] | None:
    """Return the isoformat text of `at`'s UTC minute in `tz` before its seconds ("2026-12-01T20:00:")
    and after them ("+01:00"), when one whole-minute offset holds for that whole minute; else None:
    then the UTC minute is no one local minute (an offset with seconds, as local mean time had, or
    a change of offset inside it), and each of its moments decides for itself."""
    start = at.replace(second=0, microsecond=0)
    local = start.astimezone(tz)
    offset = local.utcoffset()
    last = (start + MINUTE - dt.timedelta(microseconds=1)).astimezone(tz).utcoffset()
    if offset is None or offset % MINUTE or last != offset:
        return None
    text = local.isoformat()
    return text[:17], text[19:]


def _minute_of(hotline: Hotline, service_id: str, at: dt.datetime) -> _Minute:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a moment must be an aware datetime")
    return _kept.get((service_id, int(at.timestamp()) // 60),
                     lambda: _worked_out(hotline, service_id, at), hotline.plan)


def chain_at(hotline: Hotline, service_id: str, at: dt.datetime) -> Chain:
    """Return chain_from_decision(decide(hotline.plan, service_id, at)). Raises KeyError for an
    unknown service and ValueError for a naive moment, as decide does."""
    minute = _minute_of(hotline, service_id, at)
    if minute.chain is None:   # no one local minute: each moment decides (see _local_minute)
        return chain_from_decision(decide(hotline.plan, service_id, at))
    return minute.chain


def decided(hotline: Hotline, service_id: str, at: dt.datetime) -> tuple[Chain, dict]:
    """Return (chain, logged decision) of decide(hotline.plan, service_id, at): what
    chain_from_decision and ivr.calls.event_json.decision_dict give for it (the dict an
    EncodedDict with the same text). Raises as decide does."""
    minute = _minute_of(hotline, service_id, at)
    if minute.before is None:   # no one local minute, or a text that could not be split at `at`
        made = decide(hotline.plan, service_id, at)
        return (minute.chain if minute.chain is not None else chain_from_decision(made)), decision_dict(made)
    if at.tzinfo is UTC:
        # at.astimezone(tz).isoformat() without either: the seconds of a UTC moment are its local
        # ones under a whole-minute offset, and the text holds only digits and -:.+T (no escapes)
        micro = at.microsecond
        moment = (f"{minute.local[0]}{at.second:02d}.{micro:06d}{minute.local[1]}" if micro
                  else f"{minute.local[0]}{at.second:02d}{minute.local[1]}")
        text = f'{minute.before}"{moment}"{minute.after}'
    else:
        moment = at.astimezone(hotline.plan.tz).isoformat()
        text = minute.before + ENCODER.encode(moment) + minute.after
    data = dict(minute.data)
    data["at"] = moment
    return minute.chain, EncodedDict(data, text)
