"""`hotline route` and `hotline schedule` as an admin uses them."""
import json

from ivr.cli import main
from tests.examples import EXAMPLES


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_route_json_has_the_promised_fields(capsys):
    out = run_json(capsys, "route", "--config", str(EXAMPLES / "brondby.yaml"), "--at", "2026-12-24T23:30",
                   "--keys", "2", "--json")
    assert out["route"] == "on_call"
    assert out["dial"] == [["+4534412345"], ["+4534412346"]]
    assert out["line"] == "+4570112230" and out["service"] == "network"
    assert out["next_change"] == "2026-12-28T08:00:00+01:00"
    assert "IT-døgnvagt" in out["reason"]
    assert len(out["config_version"]) == 12


def test_route_at_with_offset_and_line_choice(capsys):
    out = run_json(capsys, "route", "--config", str(EXAMPLES), "--line", "4570112232",
                   "--at", "2026-11-23T14:30:00+00:00", "--keys", "1", "--json")
    assert out["at"] == "2026-11-23T15:30:00+01:00" and out["route"] == "on_call"


def test_route_code_entry(capsys):
    out = run_json(capsys, "route", "--config", str(EXAMPLES), "--line", "+4570112231",
                   "--at", "2026-11-23T10:00", "--keys", "1,153#,1", "--json")
    assert out["service"] == "nexus" and out["keys"] == ["1", "153#", "1"]


def test_keys_that_do_not_reach_a_service_exit_2(capsys):
    assert main(["route", "--config", str(EXAMPLES / "brondby.yaml"), "--keys", "5", "--at", "2026-11-23T10:00"]) == 2
    assert "key '5' is not an option" in capsys.readouterr().err
    assert main(["route", "--config", str(EXAMPLES / "kmd-support.yaml"), "--keys", "1,42#,1"]) == 2
    assert main(["route", "--config", str(EXAMPLES / "kmd-support.yaml"), "--keys", "1"]) == 2
    assert "no key entry" in capsys.readouterr().err


def test_several_hotlines_need_a_line(capsys):
    assert main(["route", "--config", str(EXAMPLES), "--keys", "1"]) == 2
    assert "--line" in capsys.readouterr().err


def test_schedule_week_shows_holidays_and_overrides(capsys):
    assert main(["schedule", "--config", str(EXAMPLES / "brondby.yaml"), "--week", "2026-W52"]) == 0
    out = capsys.readouterr().out
    fri = next(line for line in out.splitlines() if "Fri 25 Dec" in line and "IT-døgnvagt" in line)
    assert "00:00-24:00 IT-døgnvagt (jul til nytår) [on_call]" in fri and "Juledag" in fri
    mon = next(line for line in out.splitlines() if "Mon 21 Dec" in line and "Nexusteamet" in line)
    assert "08:00-15:30 Nexusteamet [service_desk]" in mon


def test_schedule_a_year(capsys):
    assert main(["schedule", "--config", str(EXAMPLES / "indsatsplan.yaml"), "--week", "2026-W01", "--weeks", "52"]) == 0
    out = capsys.readouterr().out
    assert out.count("week 2026-W") == 52
    assert main(["schedule", "--config", str(EXAMPLES / "brondby.yaml"), "--week", "2026-53"]) == 2


def test_line_may_be_typed_as_dialled(capsys):
    for typed in ("70 11 22 30", "+45 70 11 22 30", "4570112230", "0045 70112230"):
        out = run_json(capsys, "route", "--config", str(EXAMPLES), "--line", typed, "--keys", "1",
                       "--at", "2026-11-23T10:00", "--json")
        assert out["line"] == "+4570112230", typed
    assert main(["route", "--config", str(EXAMPLES), "--line", "12", "--keys", "1"]) == 2


def test_numbers_typed_without_plus_read_in_the_hotline_country_first():
    from ivr.numbers import candidates, is_valid_e164, normalise

    assert normalise("34412350", ("DK",)) == "+4534412350"          # not Spain's +34
    assert normalise("+34412350", ("DK",)) == "+34412350"
    assert normalise("0046104550001", ("DK",)) == "+46104550001"
    assert candidates("70112230", ("DK", "SE"))[0] == "+4570112230"
    assert is_valid_e164("+4534412350")
    assert not is_valid_e164("+266696687") and not is_valid_e164("anonymous") and not is_valid_e164("4534412350")
