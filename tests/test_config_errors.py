"""A broken config is refused with file, line and field; nothing half-loads."""
import re
from pathlib import Path

import pytest

from ivr.cli import main
from ivr.config import ConfigErrors, load_config
from tests.examples import EXAMPLES

BRONDBY = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str, name: str = "hotline.yaml") -> Path:
    assert old in BRONDBY, old
    path = tmp_path / name
    path.write_text(BRONDBY.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize("old, new, field, needle, message", [
    ('number: "4328 2020"', 'number: "4328 20"', "contacts.nexus_team.number", "4328 20", "not a valid phone number for DK"),
    ("{while: nexus_team_hours, target: nexus_team}", "{while: nexus_hours, target: nexus_team}",
     "services.nexus.rules[0].while", "nexus_hours", "unknown schedule 'nexus_hours'"),
    ('mon: ["08:00-15:30"]', 'mon: ["08:00-25:30"]', "schedules.nexus_team_hours.hours.mon[0]", "08:00-25:30",
     "not a valid time"),
    ('"2": {label: Netværk/internet er nede, service: network}',
     '"1": {label: Netværk/internet er nede, service: network}', "menu.options.1", '"1": {label: Netværk',
     "given twice"),
    ("tue-wed: [\"08:00-15:00\"]\n      thu", "mon-wed: [\"08:00-15:00\"]\n      thu",
     "schedules.nexus_team_hours.hours.mon-wed", "mon-wed", "mon is given more than once"),
    ('thu: ["08:00-18:00"]', 'thu: ["08:00-12:00", "11:00-18:00"]', "schedules.nexus_team_hours.hours.thu",
     '11:00-18:00', "overlap"),
    ("timezone: Europe/Copenhagen", "timezone: Europe/Kopenhagen", "hotline.timezone", "Kopenhagen", "unknown time zone"),
    ("    default: home_care_duty\n  network", "    defualt: home_care_duty\n  network", "services.nexus.defualt",
     "defualt", "unknown field"),
    ("        timeout: 45\n    exhausted: {voicemail", "        timeout: 45\n        screen: maybe\n    exhausted: {voicemail",
     "targets.home_care_duty.steps[0].screen", "maybe", "valid boolean"),
    ("categories: [public]", "categories: [public, religious]", "hotline.holidays.categories[1]", "religious",
     "unknown holiday category"),
    ('"+45 34 41 23 50"', '"+45 12"', "sites.sites[0].number", "+45 12", "not a valid phone number"),
])
def test_error_names_file_line_and_field(tmp_path, old, new, field, needle, message):
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    errors = caught.value.errors
    assert any(e.path == field for e in errors), [str(e) for e in errors]
    error = next(e for e in errors if e.path == field)
    assert error.file == str(path)
    assert error.line == line_of(path, needle)
    assert message in error.message


def test_emergency_targets_refuse_screening_and_voicemail(tmp_path):
    text = (EXAMPLES / "indsatsplan.yaml").read_text(encoding="utf-8")
    text = text.replace("      - call: [beredskabet]\n        timeout: 60\n      - call",
                        "      - call: [beredskabet]\n        timeout: 60\n        screen: true\n      - call", 1)
    text = text.replace('exhausted: {message: "Beredskabet svarer ikke.', 'exhausted: {voicemail: "Beredskabet svarer ikke.')
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    messages = {e.path: e.message for e in caught.value.errors}
    assert messages["targets.beredskabet.steps[0].screen"] == "emergency targets are never screened"
    assert messages["targets.beredskabet.exhausted.voicemail"] == "emergency targets never end in voicemail"


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = broken(tmp_path, "  language: da-DK", "  language: [da-DK")
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert caught.value.errors[0].line is not None and "not valid YAML" in caught.value.errors[0].message


def test_directory_loads_all_or_nothing(tmp_path):
    (tmp_path / "a.yaml").write_text(BRONDBY, encoding="utf-8")
    broken(tmp_path, "+45 70 11 22 30", "+45 70 11 22 99", name="b.yaml")
    assert len(load_config(tmp_path).lines()) == 2
    broken(tmp_path, "Europe/Copenhagen", "Mars/Olympus", name="c.yaml")
    with pytest.raises(ConfigErrors):
        load_config(tmp_path)


def test_same_inbound_number_twice_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(BRONDBY, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BRONDBY, encoding="utf-8")
    with pytest.raises(ConfigErrors) as caught:
        load_config(tmp_path)
    assert "already the number of" in str(caught.value)


def test_check_exits_2_and_prints_file_line_field(tmp_path, capsys):
    path = broken(tmp_path, 'number: "4328 2121"', 'number: "12"')
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    line = line_of(path, 'number: "12"')
    assert re.search(rf"{re.escape(str(path))}:{line}: contacts\.it_desk\.number:", err)


def test_every_example_checks(capsys):
    assert main(["check", "--config", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert "6 hotline(s)" in out


@pytest.mark.parametrize("old, new, field", [
    ('from: "12-24"', 'from: "12-42"', "schedules.it_christmas_duty.overrides[0].from"),
    ('to: "01-01"', 'to: "13-01"', "schedules.it_christmas_duty.overrides[0].to"),
    ('from: "12-24"\n        to: "01-01"', 'from: "2026-02-30"\n        to: "2026-03-01"',
     "schedules.it_christmas_duty.overrides[0].from"),
    ('from: "12-24"\n        to: "01-01"', 'from: "2026-12-01 09:00"\n        to: "2026-12-01 25:00"',
     "schedules.it_christmas_duty.overrides[0].to"),
    ("categories: [public]  ", 'categories: [public]\n    extra: {"02-30": Ingen dag}\n   ',
     "hotline.holidays.extra.02-30"),
])
def test_impossible_dates_are_config_errors(tmp_path, old, new, field):
    # A date that does not exist must be refused, not silently never match (or crash the loader).
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert any(e.path == field for e in caught.value.errors), [str(e) for e in caught.value.errors]


def test_leap_day_override_every_year_is_accepted(tmp_path):
    path = broken(tmp_path, 'from: "12-24"\n        to: "01-01"', 'from: "02-29"\n        to: "02-29"')
    assert load_config(path).lines()


@pytest.mark.parametrize("prompt", ['""', '"   "'])
def test_a_menu_or_code_prompt_that_says_nothing_is_refused(tmp_path, prompt):
    # A blank prompt leaves the caller in silence at every try; refuse it in the config.
    text = (EXAMPLES / "kmd-support.yaml").read_text(encoding="utf-8")
    text = text.replace('prompt: "KMD support. Tryk 1 for social og omsorg."', f"prompt: {prompt}")
    text = text.replace('prompt: "Tast kommunenummeret efterfulgt af firkant, eller tast kun firkant."',
                        f"prompt: {prompt}")
    path = tmp_path / "kmd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    paths = {e.path for e in caught.value.errors}
    assert {"menu.prompt", "menu.options.1.code.prompt"} <= paths, paths


def test_examples_load_without_warnings():
    assert [w for h in load_config(EXAMPLES).lines() for w in h.warnings] == []


@pytest.mark.parametrize("old, new, field, needle, message", [
    ('"2": {label: Netværk/internet er nede, service: network}', '"2": {label: Nexus igen, service: nexus}',
     "services.network", "  network:", "no menu option leads to this service"),
    ("      - {while: it_office_hours, target: it_desk}\n", "      - {while: it_office_hours, target: it_desk}\n"
     "      - {while: it_office_hours, target: it_contacts}\n", "services.network.rules[1].while",
     "{while: it_office_hours, target: it_contacts}", "never reached"),
    ("      - call: [it_contact_2]\n", "      - call: [it_contact_2, it_desk]\n",
     "targets.it_contacts.steps[1].call", "call: [it_contact_2, it_desk]", "ring together"),
    ('    "9": {label: "Personale: meld nedbrud eller drift (ikke i oplæsningen)", staff: true}\n', "",
     "outages.staff", "  staff:", "no menu option has 'staff: true'"),
    ("    callers: [home_care_duty, nexus_team]", "    callers: [home_care_duty, nexus_team]",
     "menu.options.9", '"9": {label: "Personale', "staff entry without outages.staff"),
    ('driftvagt: {name: Region Hovedstadens Driftvagt, number: "3864 8888"',
     'driftvagt: {name: Region Hovedstadens Driftvagt, number: "+45 43 28 27 30"', "contacts.driftvagt.number",
     "driftvagt: {name: Region", "same number as contacts.home_care_duty (+4543282730)"),
    ("Tryk 2, hvis netværket", "Tryk to, hvis netværket", "menu.options.2", '"2": {label: Netværk',
     "the prompt never mentions key 2"),
])
def test_check_warns_with_file_line_and_field(tmp_path, capsys, old, new, field, needle, message):
    text = BRONDBY.replace(old, new, 1)
    if "callers:" in new:
        text = _without_outage_staff(text)
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    (hotline,) = load_config(path).lines()
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    expected = f"warning: {path}:{line_of(path, needle)}: {field}: "
    assert any(w.startswith(expected[len("warning: "):]) and message in w for w in hotline.warnings), hotline.warnings
    assert expected in out


@pytest.mark.parametrize("prompt, warned", [
    ("Tryk 1 for Nexus. Tryk 2 for netværket.", []),
    ("Tryk 1 for Nexus, 2 for netværket.", []),
    ("Tryk 1 for Nexus. Er et liv i fare, ring 112.", ["2"]),      # the 2 of 112 is not key 2
    ("Tryk 12 for Nexus.", ["1", "2"]),
    ("Nexus: tryk én. Netværk: tryk to.", ["1", "2"]),
])
def test_menu_keys_the_prompt_never_mentions_are_warned(tmp_path, prompt, warned):
    old = ("    Tryk 1, hvis Nexus er nede. Tryk 2, hvis netværket eller internettet er nede.\n"
           "    Tryk stjerne for at høre valgene igen.")
    path = tmp_path / "w.yaml"
    path.write_text(BRONDBY.replace(old, "    " + prompt, 1), encoding="utf-8")
    (hotline,) = load_config(path).lines()
    keys = sorted(w.split("never mentions key ")[1][0] for w in hotline.warnings if "never mentions key" in w)
    assert keys == warned   # the staff key 9 is left out of the prompt on purpose and never warned


def test_a_submenu_key_its_prompt_never_mentions_is_warned(tmp_path):
    text = (EXAMPLES / "orebro.yaml").read_text(encoding="utf-8")
    path = tmp_path / "o.yaml"
    path.write_text(text.replace("För fel på ett CareLock-lås, tryck 2.", "För fel på ett CareLock-lås, tryck två."),
                    encoding="utf-8")
    (hotline,) = load_config(path).lines()
    assert [w.split(": ", 2)[1] for w in hotline.warnings] == ["menu.options.3.menu.options.2"]


def _without_outage_staff(text: str) -> str:
    """Return the Brøndby text with its outages.staff block removed (if it has one)."""
    lines, out, skipping = text.splitlines(keepends=True), [], False
    for line in lines:
        if line.startswith("  staff:"):
            skipping = True
            continue
        if skipping and (line.startswith("    ") or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "".join(out)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_is_said_to_be_empty(tmp_path, text):
    empty = tmp_path / "empty.yaml"
    empty.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as exc:
        load_config(empty)
    (error,) = exc.value.errors
    assert str(error) == f"{empty}: the file is empty (a hotline file is a mapping: hotline:, menu:, ...)"


def test_a_path_that_is_neither_file_nor_directory_is_not_called_missing():
    with pytest.raises(ConfigErrors) as exc:
        load_config("/dev/null")
    assert [str(e) for e in exc.value.errors] == ["/dev/null: not a file or a directory"]
