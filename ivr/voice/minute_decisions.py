"""A service's routing decision worked out once per minute, for every call of that minute.

Schedules change on whole minutes, and the hotlines' time zones are whole minutes off UTC, so all
moments of one UTC minute get the same decision but for its `at` (the reason names the minute,
not the second). In a surge, when a declared outage brings many calls about one service at once,
the minute's first call decides, makes the escalation chain and the decision's logged text, and
the others take them with their own moment put in; a call alone costs what deciding costs. The
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
_kept = KeptPerObject(KEPT)


class _Minute:
    """What the minute's first call worked out: the chain, and the decision's dict and JSON text
    around its `at` (`before` is None when the text could not be split there)."""

    __slots__ = ("chain", "data", "before", "after")

    def __init__(self, chain: Chain, data: dict, before: str | None, after: str):
        self.chain, self.data, self.before, self.after = chain, data, before, after


def _worked_out(hotline: Hotline, service_id: str, at: dt.datetime) -> _Minute:
    made = decide(hotline.plan, service_id, at)
    data = decision_dict(made)
    text = getattr(data, "json", None)
    at_json = '"at":' + ENCODER.encode(data.get("at"))
    if text is None or text.count(at_json) != 1:
        return _Minute(chain_from_decision(made), data, None, "")
    before, _, after = text.partition(at_json)
    return _Minute(chain_from_decision(made), dict(data), before + '"at":', after)


def _minute_of(hotline: Hotline, service_id: str, at: dt.datetime) -> _Minute:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a moment must be an aware datetime")
    return _kept.get((service_id, int(at.timestamp()) // 60),
                     lambda: _worked_out(hotline, service_id, at), hotline.plan)


def chain_at(hotline: Hotline, service_id: str, at: dt.datetime) -> Chain:
    """Return chain_from_decision(decide(hotline.plan, service_id, at)). Raises KeyError for an
    unknown service and ValueError for a naive moment, as decide does."""
    return _minute_of(hotline, service_id, at).chain


def decided(hotline: Hotline, service_id: str, at: dt.datetime) -> tuple[Chain, dict]:
    """Return (chain, logged decision) of decide(hotline.plan, service_id, at): what
    chain_from_decision and ivr.calls.event_json.decision_dict give for it (the dict an
    EncodedDict with the same text). Raises as decide does."""
    minute = _minute_of(hotline, service_id, at)
    if minute.before is None:
        made = decide(hotline.plan, service_id, at)
        return minute.chain, decision_dict(made)
    moment = at.astimezone(hotline.plan.tz).isoformat()
    data = dict(minute.data)
    data["at"] = moment
    return minute.chain, EncodedDict(data, minute.before + ENCODER.encode(moment) + minute.after)
