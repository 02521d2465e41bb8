"""Brøndby (seed 000): Nexus team hours, home-care duty, IT chain, Christmas round-the-clock duty."""
import pytest

from tests.examples import route

TEAM, DUTY = "+4543282020", "+4543282730"
IT_DESK, IT_1, IT_2 = "+4543282121", "+4534412345", "+4534412346"


@pytest.mark.parametrize("local, dial, route_kind", [
    ("2026-11-23T07:59", [[DUTY]], "on_call"),          # Monday, a minute before the team opens
    ("2026-11-23T08:00", [[TEAM]], "service_desk"),     # exact start
    ("2026-11-23T15:29", [[TEAM]], "service_desk"),
    ("2026-11-23T15:30", [[DUTY]], "on_call"),          # exact end on Monday
    ("2026-11-24T14:59", [[TEAM]], "service_desk"),     # Tuesday ends 15:00
    ("2026-11-24T15:00", [[DUTY]], "on_call"),
    ("2026-11-25T15:00", [[DUTY]], "on_call"),          # Wednesday as Tuesday
    ("2026-11-26T17:59", [[TEAM]], "service_desk"),     # Thursday until 18:00
    ("2026-11-26T18:00", [[DUTY]], "on_call"),
    ("2026-11-27T12:59", [[TEAM]], "service_desk"),     # Friday until 13:00
    ("2026-11-27T13:00", [[DUTY]], "on_call"),
    ("2026-11-28T10:00", [[DUTY]], "on_call"),          # Saturday
    ("2026-11-29T10:00", [[DUTY]], "on_call"),          # Sunday
    ("2026-04-02T10:00", [[DUTY]], "on_call"),          # Skærtorsdag
    ("2026-05-14T10:00", [[DUTY]], "on_call"),          # Kristi himmelfartsdag
    ("2026-12-25T10:00", [[DUTY]], "on_call"),          # Juledag
    ("2023-05-05T10:00", [[DUTY]], "on_call"),          # Store bededag was a holiday in 2023
    ("2024-04-26T10:00", [[TEAM]], "service_desk"),     # ... and is an ordinary Friday from 2024
    ("2026-05-01T10:00", [[TEAM]], "service_desk"),     # 1 May is no public holiday in Denmark
    ("2026-06-05T10:00", [[TEAM]], "service_desk"),     # nor is Grundlovsdag
])
def test_nexus(local, dial, route_kind):
    decision = route("brondby", "1", local)
    assert decision.dial == dial
    assert decision.route.value == route_kind


@pytest.mark.parametrize("local, dial, target", [
    ("2026-11-23T08:00", [[IT_DESK]], "it_desk"),
    ("2026-11-23T15:30", [[IT_1], [IT_2]], "it_contacts"),            # one after the other
    ("2026-12-23T23:59", [[IT_1], [IT_2]], "it_contacts"),            # day before the duty starts
    ("2026-12-24T00:00", [[IT_1], [IT_2]], "it_christmas_duty"),      # round the clock from 24 Dec
    ("2026-12-24T10:00", [[IT_DESK]], "it_desk"),                     # office hours still go to the desk
    ("2026-12-24T23:30", [[IT_1], [IT_2]], "it_christmas_duty"),
    ("2026-12-28T07:59", [[IT_1], [IT_2]], "it_christmas_duty"),
    ("2027-01-01T23:59", [[IT_1], [IT_2]], "it_christmas_duty"),      # New Year's Day, last minute
    ("2027-01-02T00:00", [[IT_1], [IT_2]], "it_contacts"),            # back to no formal duty
])
def test_network_and_christmas_duty(local, dial, target):
    decision = route("brondby", "2", local)
    assert decision.dial == dial
    assert decision.target == target


def test_it_contacts_are_screened_so_voicemail_cannot_stop_the_chain():
    decision = route("brondby", "2", "2026-11-23T22:00")
    assert [step.screen for step in decision.steps] == [True, True]
    assert decision.exhausted.number == DUTY


def test_silence_at_the_menu_defaults_to_nexus_duty():
    from ivr.menus.nav import walk
    from tests.examples import example

    default = example("brondby").menu.default
    assert default is not None and default.service == "nexus"
    assert walk(example("brondby").menu, ["9"]).error is not None


def test_reason_and_next_change():
    decision = route("brondby", "1", "2026-11-27T13:00")
    assert "outside Nexusteamets arbejdstid (Fri 08:00-13:00)" in decision.reason
    assert decision.next_change.isoformat() == "2026-11-30T08:00:00+01:00"
    holiday = route("brondby", "1", "2026-12-25T10:00")
    assert "Juledag: closed" in holiday.reason
    assert holiday.next_change.isoformat() == "2026-12-28T08:00:00+01:00"


def test_sites_and_driftvagt_are_kept():
    from tests.examples import example

    hotline = example("brondby")
    numbers = [site.number for site in hotline.all_sites()]
    assert len(numbers) == 9 and len(set(numbers)) == 9
    assert hotline.contacts["driftvagt"].number == "+4538648888"
