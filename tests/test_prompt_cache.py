"""Kept prompt TwiML: the same text as building it anew, and never another hotline's or config's."""
from __future__ import annotations

import dataclasses

from ivr.config.load import load_config
from ivr.menus.twiml import prompt
from ivr.voice import prompt_cache
from ivr.voice.prompt_cache import prompt_text
from ivr.voice.twiml_text import to_text


def test_kept_text_equals_a_fresh_build_for_every_line_and_menu():
    for hotline in load_config(None).lines():
        for lead in ((), ("Nexus er nede.",), ("a & <b>", "to")):
            first = prompt_text(hotline, hotline.menu, "https://h.example/voice/menu?p=&t=0&n=0", lead)
            again = prompt_text(hotline, hotline.menu, "https://h.example/voice/menu?p=&t=0&n=0", list(lead))
            assert first == again == to_text(prompt(hotline, hotline.menu, "https://h.example/voice/menu?p=&t=0&n=0", lead))
            assert str(prompt(hotline, hotline.menu, "https://h.example/voice/menu?p=&t=0&n=0", lead)) == first


def test_a_reloaded_config_with_other_words_gets_its_own_text():
    hotline = load_config(None).lines()[0]
    before = prompt_text(hotline, hotline.menu, "/voice/menu", ())
    changed = dataclasses.replace(hotline, language="en-GB")   # a new object, as a reload makes
    after = prompt_text(changed, changed.menu, "/voice/menu", ())
    assert 'language="en-GB"' in after and 'language="en-GB"' not in before
    assert prompt_text(hotline, hotline.menu, "/voice/menu", ()) == before


def test_the_action_and_the_lead_are_part_of_the_key():
    hotline = load_config(None).lines()[0]
    one = prompt_text(hotline, hotline.menu, "/voice/menu?n=1", ())
    two = prompt_text(hotline, hotline.menu, "/voice/menu?n=2", ())
    said = prompt_text(hotline, hotline.menu, "/voice/menu?n=1", ("Ugyldigt valg.",))
    assert "n=1" in one and "n=2" in two and one != two
    assert "Ugyldigt valg." in said and "Ugyldigt valg." not in one


def test_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(prompt_cache._kept, "limit", 10)
    hotline = load_config(None).lines()[0]
    for n in range(50):
        prompt_text(hotline, hotline.menu, f"/voice/menu?n={n}", ())
        assert len(prompt_cache._kept) <= 10


def test_a_kept_text_keeps_no_old_config_alive():
    # Config reloads make new hotline and menu objects; the texts of old ones must not hold them
    # (with their routing tables) in memory until the store happens to be cleared.
    import gc
    import weakref

    hotline = load_config(None).lines()[0]
    prompt_text(hotline, hotline.menu, "/voice/menu?gone=1", ())
    gone, menu_gone = weakref.ref(hotline), weakref.ref(hotline.menu)
    del hotline
    gc.collect()
    assert gone() is None and menu_gone() is None
