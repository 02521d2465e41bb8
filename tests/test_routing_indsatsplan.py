"""Indsatsplan (seed 001): Service Desk, IT on-call, preparedness; holidays follow weekend hours."""
import pytest

from tests.examples import route

DESK = ON_CALL = "+4587874199"
PREPAREDNESS = "+4587878787"


@pytest.mark.parametrize("local, route_kind", [
    ("2026-11-23T06:59", "emergency"),      # Monday before the desk opens
    ("2026-11-23T07:00", "service_desk"),
    ("2026-11-23T15:29", "service_desk"),
    ("2026-11-23T15:30", "on_call"),
    ("2026-11-23T20:59", "on_call"),
    ("2026-11-23T21:00", "emergency"),
    ("2026-11-25T15:30", "on_call"),        # Wednesday as Monday
    ("2026-11-26T16:59", "service_desk"),   # Thursday desk until 17:00
    ("2026-11-26T17:00", "on_call"),
    ("2026-11-26T21:00", "emergency"),
    ("2026-11-27T13:29", "service_desk"),   # Friday desk until 13:30
    ("2026-11-27T13:30", "on_call"),
    ("2026-11-27T17:59", "on_call"),
    ("2026-11-27T18:00", "emergency"),
    ("2026-11-28T07:59", "emergency"),      # Saturday on-call 08-16
    ("2026-11-28T08:00", "on_call"),
    ("2026-11-28T15:59", "on_call"),
    ("2026-11-29T16:00", "emergency"),      # Sunday end
    ("2026-12-25T07:59", "emergency"),      # Juledag (Friday) follows Sunday hours
    ("2026-12-25T08:00", "on_call"),
    ("2026-12-25T16:00", "emergency"),
    ("2026-05-14T10:00", "on_call"),        # Kristi himmelfartsdag (Thursday): no desk
    ("2026-04-06T12:00", "on_call"),        # 2. påskedag
    ("2026-03-29T03:30", "emergency"),      # night of the spring DST change
    ("2026-03-29T08:00", "on_call"),        # Sunday after spring forward: 08:00 CEST
    ("2026-10-25T08:00", "on_call"),        # Sunday after fall back: 08:00 CET
    ("2026-10-25T07:59", "emergency"),
])
def test_it_outage(local, route_kind):
    decision = route("indsatsplan", "1", local)
    assert decision.route.value == route_kind
    assert decision.dial[0] == [PREPAREDNESS if route_kind == "emergency" else DESK]


def test_preparedness_is_never_screened_and_never_voicemail():
    decision = route("indsatsplan", "1", "2026-11-23T23:00")
    assert decision.route.value == "emergency"
    assert not any(step.screen for step in decision.steps)
    assert decision.exhausted.kind.value != "voicemail"


@pytest.mark.parametrize("local, change", [
    ("2026-03-28T21:00", "2026-03-29T08:00:00+02:00"),   # across spring forward
    ("2026-10-24T21:00", "2026-10-25T08:00:00+01:00"),   # across fall back
    ("2026-11-27T18:00", "2026-11-28T08:00:00+01:00"),
])
def test_next_change_across_dst(local, change):
    assert route("indsatsplan", "1", local).next_change.isoformat() == change


def test_tasks_message_then_service():
    decision = route("indsatsplan", "2", "2026-11-23T10:00")
    assert decision.service == "it_outage"
