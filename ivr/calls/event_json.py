"""Call events as the call log's JSON text, and a routing decision's dict that carries its own text.

A decision's dict (`Decision.to_dict()`) is most of a `service` event, and most of it (the
target's escalation steps: numbers, names, timeouts; what ends the chain) is the same for every
call the same target takes. `decision_dict` keeps that part's JSON per target and encodes only
the rest (reason, moment, next change, announcements, config version) per call; `encode_event`
splices the kept text into the event's. The text is exactly what encoding the whole event gives.
"""
from __future__ import annotations

import json

from ivr.kept import KeptPerObject
from routing import Decision


class _KeptEncoder(json.JSONEncoder):
    """json.JSONEncoder(ensure_ascii=False, separators=(",", ":")) that keeps its C encoder:
    `encode` makes a new one on every call (a quarter of the cost of encoding an event). The
    kept one is shared by all threads, so it checks for no circular reference (the values it is
    given are trees): one would end in RecursionError instead of ValueError. The text is the
    same C encoder's, so the same as the plain encoder's."""

    def __init__(self):
        super().__init__(ensure_ascii=False, separators=(",", ":"), check_circular=False)
        make = getattr(json.encoder, "c_make_encoder", None)
        self._kept = None if make is None else make(
            None, self.default, json.encoder.encode_basestring, None, self.key_separator,
            self.item_separator, self.sort_keys, self.skipkeys, self.allow_nan)

    def encode(self, o) -> str:
        """Return the JSON text of `o`; raises TypeError for a value JSON has no form for."""
        if self._kept is None or type(o) is str:
            return super().encode(o)
        return "".join(self._kept(o, 0))


ENCODER = _KeptEncoder()  # json.dumps builds an encoder per call, and encode() a C encoder


def string_literal(text: str) -> str:
    """Return ENCODER's JSON text of the string `text` (quoted and escaped)."""
    return json.encoder.encode_basestring(text)


class EncodedStr(str):
    """A str with its own JSON text (`json`: the string literal ENCODER writes for it), for a long
    text put together from parts whose escaped forms are kept (a settle mark: a few fields of the
    call and the hotline's 1 KB snapshot); journal_line takes the literal as it is. A copy or a
    pickle of it is a plain str."""

    def __new__(cls, text: str, literal: str):
        obj = str.__new__(cls, text)
        obj.json = literal
        return obj

    def __reduce__(self):
        return str, (str(self),)

_SLOT = "\x00encoded\x00"                 # stands in for an EncodedDict's text while its event is encoded
_SLOT_JSON = ENCODER.encode(_SLOT)
# Decision.to_dict()'s keys, in order: those fixed by the target (kept), then those of the moment.
_HEAD = ("line", "service", "service_name", "route", "target", "target_name", "dial", "steps", "exhausted")
_TAIL = ("reason", "at", "next_change", "announcements", "config_version")
_KEYS = _HEAD + _TAIL
HEADS_KEPT = 512                          # at most this many targets' texts are kept (then started again)


class EncodedDict(dict):
    """A dict with its own JSON text (`json`, as ENCODER writes the dict). Read-only, so the two
    cannot drift apart; a copy, a pickle or a `|` of it is a plain dict."""

    __slots__ = ("json",)

    def __init__(self, data: dict, text: str):
        dict.__init__(self, data)
        self.json = text

    def _read_only(self, *args, **kwargs):
        raise TypeError("an encoded dict is read-only (its JSON text is fixed)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only

    def __reduce__(self):
        return dict, (dict(self),)


def encode_event(ev: dict) -> str:
    """Return ENCODER.encode(ev), taking the text of its `decision` as it is when that is an
    EncodedDict (see decision_dict)."""
    value = ev.get("decision")
    if type(value) is not EncodedDict:
        return ENCODER.encode(ev)
    text = ENCODER.encode({**ev, "decision": _SLOT})
    if text.count(_SLOT_JSON) != 1:       # the stand-in also sits in the event's own data
        return ENCODER.encode(ev)
    head, _, tail = text.partition(_SLOT_JSON)
    return head + value.json + tail


# A target's text per (the decision's own fields that fill it) and its steps and end objects.
_heads = KeptPerObject(HEADS_KEPT)


def decision_dict(decision: Decision) -> dict:
    """Return `decision.to_dict()`, as an EncodedDict whose text is ENCODER's for that dict."""
    data = decision.to_dict()
    if tuple(data) != _KEYS:
        return data                       # a dict of other fields: encoded with its event
    key = (decision.line, decision.service, decision.service_name, decision.route, decision.target,
           decision.target_name)
    head = _heads.get(key, lambda: ENCODER.encode({k: data[k] for k in _HEAD})[:-1],
                      decision.steps, decision.exhausted)
    return EncodedDict(data, head + "," + ENCODER.encode({k: data[k] for k in _TAIL})[1:])
