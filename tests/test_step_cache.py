"""A step's kept TwiML text, filled in with a call's values, is the library's text of that step."""
from __future__ import annotations

import gc
import weakref

import pytest

from ivr.calls.chain import chain_from_decision
from ivr.config.load import load_config
from ivr.voice import render, step_cache
from ivr.voice.step_cache import step_text
from routing import decide
from tests.support.voice import EXAMPLES, sample_moments

AWKWARD = [("+4570112299", "https://h.example/voice/dial?s=a&i=0&at=1&v=x", "https://h.example/voice/screen?i=0&parent=CA1"),
           ("caller \"quoted\" <x>", "https://h.example/d?a=1&b=<2>&c=\"3\"", "https://h.example/s?x=1&y=2\t"),
           ("", "", "")]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_step_of_every_example_reads_as_the_library_writes_it(path):
    steps = 0
    for hotline in load_config(path).lines():
        for service in hotline.plan.services:
            for moment in sample_moments(hotline.tz)[::6]:
                chain = chain_from_decision(decide(hotline.plan, service, moment))
                for index in range(len(chain.legs)):
                    for lead in ((), ("Ringer til vagten.",), ("a & <b>", "Nexus \"nede\"")):
                        for caller, action, screen in AWKWARD:
                            built = str(render.step(hotline, chain, index, caller, action, lambda i: screen, lead))
                            assert step_text(hotline, chain, index, caller, action, screen, lead) == built
                            steps += 1
    assert steps > 0


def test_a_lead_holding_a_stand_in_is_built_afresh():
    hotline = load_config(EXAMPLES[0]).lines()[0]
    service = next(iter(hotline.plan.services))
    chain = next(c for c in (chain_from_decision(decide(hotline.plan, service, m)) for m in sample_moments(hotline.tz))
                 if c.legs)
    lead = (f"say {step_cache.ACTION} aloud",)
    built = str(render.step(hotline, chain, 0, "+4570112299", "https://h.example/a", lambda i: "https://h.example/s", lead))
    assert step_text(hotline, chain, 0, "+4570112299", "https://h.example/a", "https://h.example/s", lead) == built


def test_past_the_last_step_raises_as_render_does():
    hotline = load_config(EXAMPLES[0]).lines()[0]
    service = next(iter(hotline.plan.services))
    chain = chain_from_decision(decide(hotline.plan, service, sample_moments(hotline.tz)[0]))
    with pytest.raises(IndexError):
        step_text(hotline, chain, len(chain.legs), "+4570112299", "a", "s")


def test_kept_texts_keep_no_old_config_alive_and_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(step_cache._kept, "limit", 5)
    hotline = load_config(EXAMPLES[0]).lines()[0]
    service = next(iter(hotline.plan.services))
    chain = next(c for c in (chain_from_decision(decide(hotline.plan, service, m)) for m in sample_moments(hotline.tz))
                 if c.legs)
    for n in range(20):
        step_text(hotline, chain, 0, "+4570112299", "a", "s", (f"lead {n}",))
        assert len(step_cache._kept) <= 5
    gone = weakref.ref(hotline)
    del hotline
    gc.collect()
    assert gone() is None
