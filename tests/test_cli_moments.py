"""--at, --week and --since: moments that do not exist, happen twice or lie out of range are refused."""
from __future__ import annotations

import json

import pytest

from tests.cli_helpers import hotline
from tests.examples import EXAMPLES

BRONDBY = str(EXAMPLES / "brondby.yaml")


# -- moments and weeks ------------------------------------------------------------------------

@pytest.mark.parametrize("at", ["0001-01-01T00:00", "9999-12-31T23:59", "0001-01-01T00:00+05:00",
                                "1800-06-01T12:00"])
def test_route_refuses_moments_out_of_range(capsys, at):
    _, err = hotline(capsys, "route", "--config", BRONDBY, "--keys", "1", "--at", at, code=2)
    assert err.startswith("hotline: --at") and "between 1970 and 2199" in err


@pytest.mark.parametrize("week, weeks", [("9999-W52", "2"), ("0001-W01", "1"), ("2199-W52", "2")])
def test_schedule_refuses_weeks_out_of_range(capsys, week, weeks):
    _, err = hotline(capsys, "schedule", "--config", BRONDBY, "--week", week, "--weeks", weeks, code=2)
    assert "between 1970 and 2199" in err


def test_schedule_at_the_ends_of_the_range(capsys):
    hotline(capsys, "schedule", "--config", BRONDBY, "--week", "1970-W02", code=0)
    hotline(capsys, "schedule", "--config", BRONDBY, "--week", "2199-W51", code=0)


def test_a_moment_skipped_by_the_spring_jump_is_refused_with_the_moments_around_it(capsys):
    _, err = hotline(capsys, "route", "--config", BRONDBY, "--keys", "1", "--at", "2026-03-29T02:30", code=2)
    assert "2026-03-29T02:30 does not exist in Europe/Copenhagen" in err
    assert "2026-03-29T01:59+01:00" in err and "2026-03-29T03:00+02:00" in err
    assert len(err.strip().splitlines()) == 1


def test_a_moment_of_the_autumn_hour_is_refused_with_both_readings(capsys):
    _, err = hotline(capsys, "route", "--config", BRONDBY, "--keys", "1", "--at", "2026-10-25T02:30", code=2)
    assert "2026-10-25T02:30 happens twice in Europe/Copenhagen" in err
    assert "2026-10-25T02:30+02:00" in err and "2026-10-25T02:30+01:00" in err
    assert err.index("+02:00") < err.index("+01:00")  # in the order they happen


def test_an_explicit_offset_chooses_the_autumn_hour(capsys):
    for offset in ("+02:00", "+01:00"):
        out, _ = hotline(capsys, "route", "--config", BRONDBY, "--keys", "1", "--json",
                         "--at", "2026-10-25T02:30" + offset, code=0)
        assert json.loads(out)["at"] == "2026-10-25T02:30:00" + offset


def test_ordinary_local_times_next_to_the_jumps_are_taken(capsys):
    for at, shown in (("2026-03-29T01:59", "+01:00"), ("2026-03-29T03:00", "+02:00"),
                      ("2026-10-25T01:59", "+02:00"), ("2026-10-25T03:00", "+01:00")):
        out, _ = hotline(capsys, "route", "--config", BRONDBY, "--keys", "1", "--json", "--at", at, code=0)
        assert json.loads(out)["at"] == at + ":00" + shown


def test_call_in_process_refuses_a_missing_moment_too(capsys):
    _, err = hotline(capsys, "call", "--config", BRONDBY, "--at", "2026-03-29T02:00", code=2)
    assert "does not exist" in err


def test_calls_since_an_age_too_large_is_refused(capsys):
    _, err = hotline(capsys, "calls", "--since", "99999999999d", code=2)
    assert "--since" in err
