"""A fresh decision's chain is built from the decision itself (its steps' legs kept per target), and
is exactly the chain a later webhook reads back from the decision's dict in the call log."""
from __future__ import annotations

import dataclasses
import datetime as dt

from ivr.calls.chain import chain_from_decision, chain_from_dict
from routing import Decision, Exhausted, ExhaustedKind, RouteKind, Step
from tests.examples import every_example_decision

START = dt.datetime(2026, 3, 27, 0, 7, 13, tzinfo=dt.timezone.utc)      # the spring clock change,
MOMENTS = [START + dt.timedelta(minutes=97 * n) for n in range(120)]     # every time of day, 8 days



def test_every_examples_chain_equals_the_one_read_from_its_dict():
    seen = 0
    for _, _, decision in every_example_decision(MOMENTS):
        assert chain_from_decision(decision) == chain_from_dict(decision.to_dict())
        seen += 1
    assert seen > 500


def _decision(**changes) -> Decision:
    base = Decision(
        line="+4570000000", service="care", service_name="", route=RouteKind.ON_CALL, target="vagt",
        target_name="", steps=(Step(("+4530000001", "+4530000002"), timeout=0, screen=True, names=("A",)),
                               Step(("+4530000003",), timeout=40)),
        exhausted=Exhausted(ExhaustedKind.VOICEMAIL), reason="night", at=START, next_change=None,
        announcements=("Nexus er nede.",), config_version="",
    )
    return dataclasses.replace(base, **changes)


def test_the_odd_fields_come_out_as_the_dict_gives_them():
    # An empty service name falls back to the service, a zero timeout to 25, names may be fewer
    # than numbers, an emergency target is never screened and never ends in voicemail.
    for decision in (_decision(), _decision(route=RouteKind.EMERGENCY),
                     _decision(exhausted=Exhausted(ExhaustedKind.DIAL, number="+4570000112")),
                     _decision(exhausted=Exhausted(ExhaustedKind.MESSAGE, message="Ring 112.")),
                     _decision(route=RouteKind.EMERGENCY, exhausted=Exhausted(ExhaustedKind.MESSAGE)),
                     _decision(steps=(), service_name="Omsorg", target_name="Vagten", config_version="v7")):
        assert chain_from_decision(decision) == chain_from_dict(decision.to_dict())


def test_a_target_changed_by_a_reload_gets_its_own_legs():
    first = _decision()
    assert chain_from_decision(first).legs[0].numbers == ("+4530000001", "+4530000002")
    reloaded = _decision(steps=(Step(("+4530000009",), timeout=20),))
    assert chain_from_decision(reloaded).legs == chain_from_dict(reloaded.to_dict()).legs
    assert chain_from_decision(first).legs[0].screen is True
    assert chain_from_decision(_decision(route=RouteKind.EMERGENCY)).legs[0].screen is False
