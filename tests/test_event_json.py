"""A routing decision's JSON in the call log is kept per target and spliced into its event's:
the text written is exactly what encoding the whole event gives, for every example's decisions."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings, strategies as st

from ivr.calls.append import append_arguments
from ivr.calls.event_json import ENCODER, EncodedDict, decision_dict, encode_event
from ivr.calls.events import event
from routing import decide
from tests.examples import every_example_decision, every_example_hotline

SID = "CA" + "5" * 32
START = dt.datetime(2026, 12, 21, 0, 7, 13, 500000, tzinfo=dt.timezone.utc)   # Christmas week and New Year
MOMENTS = [START + dt.timedelta(minutes=97 * n) for n in range(160)]           # every time of day, 11 days



def _service_event(hotline, service, decision):
    return event(SID, hotline.line, "service", f"service:{hotline.line}", decision.at, service=service,
                 decision=decision_dict(decision), extra={"site": "Sønderbo plejecenter"})


def test_every_examples_decisions_are_written_as_the_whole_event_encoded():
    seen = 0
    for hotline, service, decision in every_example_decision(MOMENTS):
        data = decision_dict(decision)
        assert type(data) is EncodedDict and data == decision.to_dict()
        assert data.json == ENCODER.encode(decision.to_dict())
        ev = _service_event(hotline, service, decision)
        assert encode_event(ev) == ENCODER.encode(ev) == ENCODER.encode({**ev, "decision": decision.to_dict()})
        keys, args = append_arguments([(ev, 90, None)])
        assert args[1] == ENCODER.encode(ev)
        seen += 1
    assert seen > 1000


def test_non_ascii_and_the_stand_in_text_in_the_data_are_written_as_encoded():
    hotline = next(h for h in every_example_hotline() if h.plan.services)
    service = next(iter(hotline.plan.services))
    decision = decide(hotline.plan, service, START)
    odd = dataclasses.replace(decision, reason="Før lukketid — «vagt» ☎ \x00encoded\x00 \u2028 \"quoted\" \\",
                              announcements=("Ældrepleje: 112 ved brand", "\x00encoded\x00"),
                              target_name="Vagttelefon Ærø", service_name="Omsorgssystem ✓")
    data = decision_dict(odd)
    assert data.json == ENCODER.encode(odd.to_dict())
    for extra in ({}, {"note": "\x00encoded\x00"}, {"note": '"\\u0000encoded\\u0000"'}):
        ev = event(SID, hotline.line, "service", "service:x", START, service=service, decision=data, **extra)
        assert encode_event(ev) == ENCODER.encode(ev)


def test_a_target_of_another_config_gets_its_own_text():
    hotline = next(h for h in every_example_hotline() if any(s.rules for s in h.plan.services.values()))
    service = next(iter(hotline.plan.services))
    decision = decide(hotline.plan, service, START)
    first = decision_dict(decision).json
    steps = tuple(dataclasses.replace(s, numbers=s.numbers + ("+4570000001",), timeout=s.timeout + 5)
                  for s in decision.steps) or (dataclasses.replace(decision.exhausted, number="+4570000002"),)
    changed = (dataclasses.replace(decision, steps=steps) if decision.steps
               else dataclasses.replace(decision, exhausted=steps[0]))
    assert decision_dict(changed).json == ENCODER.encode(changed.to_dict()) != first
    assert decision_dict(decision).json == first


def test_an_encoded_dict_is_read_only_and_its_copies_are_plain_dicts():
    data = EncodedDict({"a": [1]}, '{"a":[1]}')
    for change in (lambda d: d.__setitem__("a", 2), lambda d: d.update(a=2), lambda d: d.pop("a"),
                   lambda d: d.setdefault("b", 1), lambda d: d.clear(), lambda d: d.popitem(),
                   lambda d: d.__delitem__("a")):
        with pytest.raises(TypeError):
            change(data)
    with pytest.raises(TypeError):
        data |= {"b": 1}
    assert data == {"a": [1]}
    for twin in (copy.copy(data), copy.deepcopy(data), pickle.loads(pickle.dumps(data)), data | {}, dict(data)):
        assert type(twin) is dict and twin == {"a": [1]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_kept_encoder_writes_what_json_dumps_writes(value):
    assert ENCODER.encode(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_the_kept_encoder_is_shared_by_threads_and_refuses_what_json_refuses():
    ev = {"id": "start:start", "sid": SID, "announced": ["Nexus er nede", {"ø": [1.5, None]}], "n": 3}
    want = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
    # The same object from many threads at once: a shared circular-reference check would
    # see it "twice" and refuse it.
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda _: ENCODER.encode(ev), range(2000))) == {want}
    with pytest.raises(TypeError):
        ENCODER.encode({"at": dt.datetime(2026, 1, 1)})
    looped: list = []
    looped.append(looped)
    with pytest.raises(RecursionError):
        ENCODER.encode(looped)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 2**40))
def test_a_text_put_together_from_escaped_parts_is_journaled_as_the_whole_text(head, tail, due):
    from ivr.calls.event_json import EncodedStr, string_literal
    from ivr.calls.journal import journal_line

    member = EncodedStr(head + tail, string_literal(head)[:-1] + string_literal(tail)[1:])
    assert member.json == ENCODER.encode(head + tail)   # escaping goes character by character
    follow = ["hotline:settle:due", due, member]
    assert journal_line("{}", 3, None, follow) == journal_line("{}", 3, None, ["hotline:settle:due", due, head + tail])
    assert type(pickle.loads(pickle.dumps(member))) is str
