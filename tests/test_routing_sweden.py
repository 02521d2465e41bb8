"""Örebro (seed 004) and the LOV routine (seed 003): lunch gaps, Fridays, de facto holidays, SOS Alarm."""
import pytest

from tests.examples import route

TEAM, IT, CARELOCK, SOS = "+46701234590", "+46701234591", "+4619214944", "+4619212000"


@pytest.mark.parametrize("keys, local, dial, route_kind", [
    ("3,1", "2026-11-23T07:59", [[SOS]], "emergency"),
    ("3,1", "2026-11-23T08:00", [[TEAM]], "service_desk"),
    ("3,1", "2026-11-23T11:59", [[TEAM]], "service_desk"),
    ("3,1", "2026-11-23T12:00", [], "closed"),                # lunch: closed, not SOS Alarm
    ("3,1", "2026-11-23T12:59", [], "closed"),
    ("3,1", "2026-11-23T13:00", [[TEAM]], "service_desk"),
    ("3,1", "2026-11-23T16:29", [[TEAM]], "service_desk"),
    ("3,1", "2026-11-23T16:30", [[SOS]], "emergency"),
    ("4", "2026-11-23T07:00", [[IT]], "service_desk"),
    ("4", "2026-11-23T16:59", [[IT]], "service_desk"),
    ("4", "2026-11-23T17:00", [[SOS]], "emergency"),
    ("4", "2026-11-27T15:59", [[IT]], "service_desk"),        # Fridays until 16:00
    ("4", "2026-11-27T16:00", [[SOS]], "emergency"),
    ("4", "2026-11-27T12:30", [], "closed"),                  # lunch on Friday too
    ("3,2", "2026-11-27T12:30", [], "closed"),
    ("3,2", "2026-11-23T16:29", [[TEAM]], "service_desk"),    # lock fault in the day: business systems
    ("3,2", "2026-11-23T16:45", [], "closed"),                # the seed leaves 16:30-17:00 uncovered
    ("3,2", "2026-11-23T17:00", [[CARELOCK]], "service_desk"),
    ("3,2", "2026-11-23T21:59", [[CARELOCK]], "service_desk"),
    ("3,2", "2026-11-23T22:00", [], "closed"),                # deliberately no one at night
    ("3,2", "2026-11-28T06:59", [], "closed"),
    ("3,2", "2026-11-28T07:00", [[CARELOCK]], "service_desk"),  # weekends from 07:00
    ("3,2", "2026-06-19T10:00", [[CARELOCK]], "service_desk"),  # Midsommarafton: as Sunday
    ("3,1", "2026-06-19T10:00", [[SOS]], "emergency"),         # Midsommarafton (de facto) closed
    ("3,1", "2026-12-24T10:00", [[SOS]], "emergency"),         # Julafton
    ("3,1", "2026-12-31T10:00", [[SOS]], "emergency"),         # Nyårsafton
    ("3,1", "2026-01-06T10:00", [[SOS]], "emergency"),         # Trettondedag jul (public)
    ("3,1", "2026-06-18T16:29", [[TEAM]], "service_desk"),     # eve of Midsommarafton: normal hours
    ("4", "2026-03-30T07:00", [[IT]], "service_desk"),         # Monday after spring DST change
    ("4", "2026-10-26T06:59", [[SOS]], "emergency"),           # Monday after fall back
])
def test_orebro(keys, local, dial, route_kind):
    decision = route("orebro", keys, local)
    assert decision.dial == dial
    assert decision.route.value == route_kind


def test_orebro_sos_reads_the_checklist_and_maintenance_is_announced():
    night = route("orebro", "4", "2026-11-23T23:00")
    assert any("Starta om datorn" in a for a in night.announcements)
    assert any("låsa upp" not in a and "upplåsning" in a for a in night.announcements)
    upgrade = route("orebro", "3,1", "2026-12-01T09:00")
    assert any("uppgradering" in a for a in upgrade.announcements)
    assert not any("uppgradering" in a for a in route("orebro", "3,1", "2026-12-01T14:00").announcements)


def test_orebro_closed_route_has_a_message():
    decision = route("orebro", "3,2", "2026-11-24T03:00")
    assert decision.route.value == "closed" and "back up-nyckeln" in decision.exhausted.message


NURSE, PURCHASER_IT, ALARMS, TECH = "+46701234568", "+46701234567", "+46701234569", "+46701234570"


@pytest.mark.parametrize("keys, local, dial", [
    ("1", "2026-11-23T07:59", [[NURSE]]),
    ("1", "2026-11-23T08:00", [[PURCHASER_IT]]),
    ("1", "2026-11-27T16:59", [[PURCHASER_IT]]),
    ("1", "2026-11-27T17:00", [[NURSE]]),
    ("1", "2026-11-28T10:00", [[NURSE]]),
    ("1", "2026-05-01T10:00", [[NURSE]]),        # Första maj is a red day in Sweden
    ("2", "2026-11-23T00:00", [[ALARMS]]),       # purchaser checks alarms on weekdays
    ("2", "2026-11-27T23:59", [[ALARMS]]),
    ("2", "2026-11-28T00:00", [[TECH]]),         # provider on weekends ...
    ("2", "2026-06-06T10:00", [[TECH]]),         # ... and red days (Nationaldagen)
    ("2", "2026-06-19T10:00", [[TECH]]),         # Midsommarafton
])
def test_lov(keys, local, dial):
    assert route("lov-hemtjanst", keys, local).dial == dial


def test_kmd_menu_codes():
    from ivr.menus.nav import walk
    from tests.examples import example

    menu = example("kmd-support").menu
    assert walk(menu, ["1", "153#", "1"]).service == "nexus"
    assert walk(menu, ["1", "#", "1"]).service == "nexus"          # "or just #"
    assert walk(menu, ["1", "999#", "1"]).service is None
    assert walk(menu, ["2"]).service is None
    decision = route("kmd-support", "1,153#,1", "2026-12-24T23:30")
    assert decision.route.value == "on_call" and len(decision.steps) == 2


def test_mammenfri_chain_rings_the_head_on_both_numbers_in_turn():
    decision = route("mammenfri", "1", "2026-11-23T10:00")
    assert decision.dial == [["+4534412360"], ["+4534412361"], ["+4534412362"], ["+4534412363"]]
    assert all(step.screen for step in decision.steps)
    assert decision.next_change is None                  # no schedule: same answer all year
