"""Values that used to pass and then did something else: languages, holiday names, weekday names."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import ConfigErrors, load_config
from schedules import parse_weekdays
from tests.examples import EXAMPLES

BRONDBY = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")
OREBRO = (EXAMPLES / "orebro.yaml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, old: str, new: str) -> Path:
    assert old in text, old
    path = tmp_path / "hotline.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def error_at(path: Path, field: str):
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    errors = [e for e in caught.value.errors if e.path == field]
    assert errors, [str(e) for e in caught.value.errors]
    return errors[0]


# -- language ------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["dk", "da", "en", "de-DE", "sv_SE", "danish", "se-SE", "en-DK"])
def test_a_language_the_hotline_does_not_speak_is_refused(tmp_path, language):
    path = write(tmp_path, BRONDBY, "language: da-DK", f"language: {language}")
    error = error_at(path, "hotline.language")
    assert error.line == line_of(path, f"language: {language}")
    assert f"{language!r}" in error.message and "da-DK" in error.message and "sv-SE" in error.message \
        and "en-GB" in error.message


@pytest.mark.parametrize("language, kept", [("da-DK", "da-DK"), ("sv-SE", "sv-SE"), ("en-GB", "en-GB"),
                                            ("en-US", "en-US"), ("da-dk", "da-DK"), ("EN-gb", "en-GB")])
def test_twilio_tags_of_the_spoken_languages_are_accepted(tmp_path, language, kept):
    path = write(tmp_path, BRONDBY, "language: da-DK", f"language: {language}")
    (hotline,) = load_config(path).lines()
    assert hotline.language == kept


# -- holiday names -------------------------------------------------------------------------------
def test_an_excluded_holiday_name_that_matches_no_holiday_is_refused(tmp_path):
    path = write(tmp_path, BRONDBY, "    categories: [public]", "    categories: [public]\n    exclude: [Juledg]")
    error = error_at(path, "hotline.holidays.exclude[0]")
    assert error.line == line_of(path, "exclude: [Juledg]")
    assert "'Juledg'" in error.message and "Juledag" in error.message and "Anden pinsedag" in error.message


def test_excluded_names_are_those_of_the_chosen_categories(tmp_path):
    # Julafton is a de_facto holiday in Sweden: known with [public, de_facto], unknown with [public] only.
    ok = write(tmp_path, OREBRO, "    categories: [public, de_facto]",
               "    categories: [public, de_facto]\n    exclude: [Julafton, Nationaldagen, \"12-31\"]")
    (hotline,) = load_config(ok).lines()
    assert hotline.calendar.exclude == ("Julafton", "Nationaldagen", "12-31")
    bad = write(tmp_path, OREBRO, "    categories: [public, de_facto]", "    categories: [public]\n    exclude: [Julafton]")
    assert "Julafton" in error_at(bad, "hotline.holidays.exclude[0]").message


def test_an_excluded_date_must_be_a_real_date(tmp_path):
    path = write(tmp_path, BRONDBY, "    categories: [public]", "    categories: [public]\n    exclude: [\"02-30\"]")
    assert "not a date" in error_at(path, "hotline.holidays.exclude[0]").message


# -- weekday names -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, days", [
    ("mon", (0,)), ("Monday", (0,)), ("tue-wed", (1, 2)), ("tuesday-wednesday", (1, 2)), ("sat,sun", (5, 6)),
    ("thursday", (3,)), ("SUN", (6,)), ("mon - fri", (0, 1, 2, 3, 4)),
])
def test_weekday_names_and_their_abbreviations(text, days):
    assert parse_weekdays(text) == days


@pytest.mark.parametrize("text", ["thur", "thurs", "monkey", "tues", "wednes", "su", "fridays", "mo-fr", "man"])
def test_other_weekday_spellings_are_refused(text):
    with pytest.raises(ValueError, match="is not a weekday"):
        parse_weekdays(text)


@pytest.mark.parametrize("old, new, field", [
    ('thu: ["08:00-18:00"]', 'thur: ["08:00-18:00"]', "schedules.nexus_team_hours.hours.thur"),
    ('thu: ["08:00-18:00"]', 'monkey: ["08:00-18:00"]', "schedules.nexus_team_hours.hours.monkey"),
])
def test_a_misspelt_weekday_in_hours_is_a_config_error(tmp_path, old, new, field):
    path = write(tmp_path, BRONDBY, old, new)
    error = error_at(path, field)
    assert error.line == line_of(path, new) and "is not a weekday" in error.message


def test_a_misspelt_weekday_in_a_day_policy_is_a_config_error(tmp_path):
    text = (EXAMPLES / "indsatsplan.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, text, "holidays: as_sunday", "holidays: as_sunflower")
    assert "not a day policy" in error_at(path, "schedules.it_on_call_hours.holidays").message
