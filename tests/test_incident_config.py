"""notify: lists in the config: shapes, refusals, warnings, and the examples' lists."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.cli import main
from ivr.config import ConfigErrors, load_config
from ivr.config.load import load_text
from tests.incident_helpers import notify_yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "line.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_lists_with_renotify_after_and_the_short_form_per_target():
    text = notify_yaml("90s").replace(
        "  alarm:\n    name: Beredskabet\n", "  alarm:\n    name: Beredskabet\n    notify: [duty, \"+45 34 41 23 65\"]\n", 1)
    hotline = load_text(text, "t.yaml")
    first, second = hotline.notify.default
    assert first.numbers == ("+4534412362", "+4534412363") and first.names == ("Tekniker 1", "Tekniker 2")
    assert first.renotify_after == 90 and second.numbers == ("+4534412361",) and second.renotify_after is None
    (only,) = hotline.notify.levels_for("alarm")
    assert only.numbers == ("+4534412361", "+4534412365") and only.renotify_after is None
    assert hotline.notify.levels_for("desk") == hotline.notify.default
    assert [w for w in hotline.warnings if "notify" in w] == []


@pytest.mark.parametrize("raw,seconds", [("10m", 600), ("1h", 3600), ("45s", 45), ("15", 900)])
def test_renotify_after_reads_seconds_minutes_and_hours(raw, seconds):
    assert load_text(notify_yaml(raw), "t.yaml").notify.default[0].renotify_after == seconds


@pytest.mark.parametrize("old,new,field", [
    ("notify:\n  - to: [tech1, tech2]\n    renotify_after: 10m\n  - to: [duty]\n", "notify: []\n", "notify"),
    ("  - to: [duty]\n", "  - to: []\n", "notify[1].to"),
    ("  - to: [duty]\n", "  - to: [nobody]\n", "notify[1].to[0]"),
])
def test_a_list_that_reaches_no_one_or_an_unknown_contact_is_refused(tmp_path, capsys, old, new, field):
    text = notify_yaml()
    assert old in text
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ConfigErrors) as exc:
        load_config(path)
    assert any(e.path == field for e in exc.value.errors), exc.value.errors
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line.yaml:" in err and field in err
    assert ("reach no one" in err) or ("unknown contact" in err)


def test_check_warns_about_a_number_that_is_not_a_mobile(tmp_path, capsys):
    path = _write(tmp_path, notify_yaml().replace("  - to: [duty]\n", "  - to: [\"+45 80 20 30 40\"]\n", 1))
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "notify[1].to[0]: +45 80 20 30 40 (+45 80 20 30 40) is not a mobile number (TOLL_FREE)" in out


def test_a_hotline_without_any_notify_list_is_warned_about():
    from tests.support.voice import TEST_YAML

    warnings = load_text(TEST_YAML, "t.yaml").warnings
    assert any("notify: no notify: lists: a call nobody takes reaches no one" in w for w in warnings), warnings


def test_the_examples_page_the_people_their_procedures_name():
    config = load_config(EXAMPLES)
    brondby = config.find("+4570112230")
    assert brondby.notify.default[0].names == ("Hjemmeplejens vagt",)
    it_chain = brondby.notify.levels_for("it_contacts")
    assert [lv.names for lv in it_chain] == [("IT-kontakt 1",), ("IT-kontakt 2",), ("Hjemmeplejens vagt",)]
    assert [lv.renotify_after for lv in it_chain[:2]] == [600, 600]   # "within 10 minutes: the next"
    orebro = config.find("+46104550001")
    assert all(name.startswith("Kommunsupport") for name in orebro.notify.default[0].names)
    mammenfri = config.find("+4570112233")
    assert [lv.names for lv in mammenfri.notify.default] == [("Leder",), ("Leder (2. nummer)",)]


def test_check_shows_who_hears_of_missed_calls(capsys):
    assert main(["check", "--config", str(EXAMPLES / "brondby.yaml")]) == 0
    out = capsys.readouterr().out
    assert "  notify (missed calls): Hjemmeplejens vagt (again every 15m)" in out
    assert "    target it_contacts: IT-kontakt 1 -10m-> IT-kontakt 2 -10m-> Hjemmeplejens vagt" in out
    assert main(["check", "--config", str(EXAMPLES / "brondby.yaml"), "--json"]) == 0
    import json

    summary = json.loads(capsys.readouterr().out)["hotlines"][0]["notify"]
    assert summary["default"] == [{"numbers": ["+4543282730"], "names": ["Hjemmeplejens vagt"], "renotify_after": 900}]
