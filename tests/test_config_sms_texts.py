"""SMS texts of the outages: section: refused past Twilio's 1,600 characters once filled in, warned
about when they take more than 3 segments or are not GSM-7; `outage declare --message` likewise."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.cli import main
from ivr.config import ConfigErrors, load_config
from tests.examples import EXAMPLES

BRONDBY = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")
DOWN = 'down: "NEDBRUD: {system} er nede siden kl. {since}. {message} Følg nødproceduren.'


def write(tmp_path: Path, old: str, new: str) -> Path:
    assert old in BRONDBY, old
    path = tmp_path / "b.yaml"
    path.write_text(BRONDBY.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def warnings(path: Path) -> list[str]:
    (hotline,) = load_config(path).lines()
    return list(hotline.warnings)


def test_a_text_longer_than_twilio_takes_once_filled_in_is_refused(tmp_path):
    # 1,602 characters once filled in: {since} can be "24.12.2026 23:59", {system} "Netværket".
    path = write(tmp_path, DOWN, DOWN.replace("Følg", "x" * 1470 + " Følg"))
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    (error,) = [e for e in caught.value.errors if e.path == "outages.texts.down"]
    assert error.line == line_of(path, "down: ")
    assert "1,600" in error.message and "characters" in error.message


def test_a_text_within_the_limit_but_over_three_segments_is_warned_with_its_count(tmp_path):
    path = write(tmp_path, DOWN, DOWN.replace("Følg", "x" * 400 + " Følg"))
    found = [w for w in warnings(path) if "outages.texts.down" in w]
    assert len(found) == 1 and "4 SMS segments" in found[0] and "GSM-7" in found[0]
    assert found[0].startswith(f"{path}:{line_of(path, 'down: ')}: outages.texts.down: ")


def test_a_text_that_is_not_gsm7_is_warned_with_the_characters_and_segments(tmp_path):
    path = write(tmp_path, "Husk at indtaste", "Husk – at indtaste")
    found = [w for w in warnings(path) if "outages.texts.restored" in w]
    assert len(found) == 1 and "'–'" in found[0] and "UCS-2" in found[0] and "3 SMS segments" in found[0]


def test_placeholders_are_filled_with_the_configs_own_longest_names(tmp_path):
    # {hotline} is the hotline's name, which has an en dash: the text becomes UCS-2.
    text = BRONDBY.replace("Orientér venligst hospitalerne.", "Orientér venligst hospitalerne. {hotline}", 1)
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    found = [w for w in warnings(path) if "restore_text" in w]
    assert len(found) == 1 and "UCS-2" in found[0] and "outages.escalations[0].restore_text" in found[0]


def test_examples_texts_raise_no_warning():
    assert [w for h in load_config(EXAMPLES).lines() for w in h.warnings if "SMS" in w] == []


def test_declare_refuses_a_message_longer_than_twilio_takes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")   # never reached: refused before Redis
    code = main(["outage", "declare", "--config", str(EXAMPLES / "brondby.yaml"), "--system", "nexus",
                 "--message", "x" * 1601])
    err = capsys.readouterr().err
    assert code == 2 and "1,600" in err and "Traceback" not in err


def test_declare_refuses_a_message_that_makes_the_down_text_too_long(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    code = main(["outage", "declare", "--config", str(EXAMPLES / "brondby.yaml"), "--system", "nexus",
                 "--message", "x" * 1500])
    err = capsys.readouterr().err
    assert code == 2 and "outages.texts.down" in err and "1,600" in err


def test_declare_with_a_fitting_message_goes_on_to_redis(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    code = main(["outage", "declare", "--config", str(EXAMPLES / "brondby.yaml"), "--system", "nexus",
                 "--message", "x" * 200])
    assert code == 1 and "cannot reach Redis" in capsys.readouterr().err
