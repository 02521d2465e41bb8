"""Properties of decisions over random moments: next_change is exact for every example service."""
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import decide
from routing.decide import target_at
from tests.examples import EXAMPLES, example

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
UTC = dt.timezone.utc
moments = st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2028, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC))


@st.composite
def service_and_moment(draw):
    hotline = example(draw(st.sampled_from(NAMES)))
    service = draw(st.sampled_from(sorted(hotline.plan.services)))
    return hotline, service, draw(moments)


@settings(max_examples=300, deadline=None)
@given(service_and_moment(), st.floats(min_value=0.0, max_value=1.0))
def test_route_holds_until_next_change_and_then_changes(case, fraction):
    hotline, service_id, at = case
    decision = decide(hotline.plan, service_id, at)
    service = hotline.plan.services[service_id]
    change = decision.next_change
    if change is None:
        later = at + dt.timedelta(days=300 * fraction)
        assert target_at(service, later.astimezone(hotline.tz)).id == decision.target
        return
    assert change > at
    inside = at + (change - at) * fraction
    inside = min(inside, change - dt.timedelta(seconds=1))
    assert target_at(service, inside.astimezone(hotline.tz)).id == decision.target
    assert target_at(service, change).id != decision.target


@settings(max_examples=200, deadline=None)
@given(service_and_moment())
def test_decision_is_a_pure_function_of_its_inputs(case):
    hotline, service_id, at = case
    first = decide(hotline.plan, service_id, at)
    again = decide(hotline.plan, service_id, at.astimezone(hotline.tz))
    assert first == again
    assert first.config_version == hotline.version and first.dial == [list(s.numbers) for s in first.steps]
