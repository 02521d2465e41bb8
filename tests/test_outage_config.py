"""The outages: section: built values, errors with file:line:field, PIN hashes."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import ConfigErrors, load_config, load_text
from ivr.outages import pins

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"


def test_brondby_texts_the_nine_sites_and_tells_the_driftvagt_after_two_hours():
    hotline = load_config(BRONDBY).lines()[0]
    policy = hotline.outages
    assert policy.rate == 10 and policy.groups == ("sites",)
    assert len(hotline.all_sites(list(policy.groups))) == 9
    (step,) = policy.escalations
    assert (step.after_minutes, step.numbers) == (120, ("+4538648888",))
    assert step.restore_text and "{system}" in policy.down_text
    assert policy.staff.callers == ("+4543282730", "+4543282020")
    assert pins.check_pin("2468", policy.staff.pin_hash)


def _with_outages(section: str) -> str:
    text = BRONDBY.read_text(encoding="utf-8")
    return text[: text.index("\noutages:")] + "\n" + section


def _errors(section: str) -> list[str]:
    with pytest.raises(ConfigErrors) as exc:
        load_text(_with_outages(section), "brondby.yaml")
    return [str(e) for e in exc.value.errors]


def test_unknown_placeholder_contact_group_and_a_clear_pin_are_refused_with_their_lines():
    errors = _errors(
        "outages:\n"
        "  groups: [sites, nursing]\n"
        "  texts:\n"
        "    down: '{system} nede siden {sinse}'\n"
        "    restored: '{system} virker'\n"
        "  escalations:\n"
        "    - after_minutes: 120\n"
        "      notify: [driftvagten, '1234']\n"
        "      text: '{system}'\n"
        "  staff:\n"
        "    callers: [home_care_duty]\n"
        "    pin_hash: '2468'\n"
    )
    joined = "\n".join(errors)
    text = BRONDBY.read_text(encoding="utf-8")
    start = text[: text.index("\noutages:")].count("\n") + 2  # the line of "outages:"
    assert f"brondby.yaml:{start + 1}: outages.groups[1]: unknown site group 'nursing'" in joined
    assert f"brondby.yaml:{start + 3}: outages.texts.down: unknown placeholder {{sinse}}" in joined
    assert "outages.escalations[0].notify[0]: unknown contact 'driftvagten'" in joined
    assert "outages.escalations[0].notify[1]: '1234' is not a valid phone number for DK" in joined
    assert "outages.staff.pin_hash: not a PIN hash" in joined and "hash-pin" in joined
    assert len(errors) == 5, joined


def test_sender_must_be_a_number_or_a_messaging_service_sid():
    errors = _errors("outages:\n  sender: {messaging_service_sid: MG123}\n  texts: {down: a, restored: b}\n")
    assert any("outages.sender.messaging_service_sid" in e for e in errors)
    hotline = load_text(_with_outages(
        "outages:\n  sender: {from: '70 11 22 30'}\n  rate: 2.5\n  texts: {down: a, restored: b}\n"), "x.yaml")
    assert (hotline.outages.sender_from, hotline.outages.rate, hotline.outages.groups) == ("+4570112230", 2.5, None)


def test_pin_hashes_are_salted_and_checked_in_constant_form():
    a, b = pins.hash_pin("2468", iterations=1000), pins.hash_pin("2468", iterations=1000)
    assert a != b and a.startswith("pbkdf2_sha256$1000$")
    assert pins.check_pin("2468", a) and not pins.check_pin("2469", a) and not pins.check_pin("", a)
    assert not pins.check_pin("2468", "2468")
    with pytest.raises(ValueError):
        pins.hash_pin("12")


def test_swedish_example_texts_providers_and_announcements_follow_the_language():
    import datetime as dt

    from ivr.outages import texts

    hotline = next(h for h in load_config(BRONDBY.parent).lines() if h.country == "SE" and h.outages)
    assert hotline.outages.groups == ("providers",) and hotline.outages.escalations == ()
    declared = dt.datetime(2026, 11, 23, 8, 5, tzinfo=dt.timezone.utc)   # 09:05 in Stockholm
    values = texts.fields(system="Nätet", declared_at=declared, now=declared + dt.timedelta(hours=25),
                          tz=hotline.tz, language=hotline.language)
    assert values["since"] == "2026-11-23 09:05" and values["minutes"] == str(25 * 60)
    assert texts.announcement(None, "sv-SE", values) == \
        "Nätet har legat nere sedan klockan 2026-11-23 09:05. Vi arbetar på det."
    same_day = texts.fields(system="Nexus", declared_at=declared, now=declared, tz=hotline.tz, language="en-GB")
    assert texts.announcement(None, "en-GB", same_day) == "Nexus has been down since 09:05; we are working on it."
    assert texts.render(hotline.outages.restored_text, {**same_day, "system": "Nätet"}).startswith(
        "Nätet fungerar igen sedan kl. 09:05")


def test_the_staff_entry_offers_at_most_nine_systems():
    text = BRONDBY.read_text(encoding="utf-8").replace(
        "  network: {name: Netværket}\n",
        "  network: {name: Netværket}\n" + "".join(f"  s{i}: {{name: S{i}}}\n" for i in range(8)))
    with pytest.raises(ConfigErrors, match="outages.staff: the staff entry offers systems on keys 1-9"):
        load_text(text, "brondby.yaml")
