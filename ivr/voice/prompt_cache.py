"""Keypad prompts as TwiML text, built once per process and kept.

A prompt's TwiML depends only on the hotline (voice, language), the prompt's node, the action
URL and the sentences said before it: every new call to a line hears the same greeting and top
menu, and every wrong key at a menu the same re-prompt. Hotlines and menu nodes are frozen
dataclasses and a config reload makes new ones, so a kept text is only used for the very
objects it was built from; it refers to them weakly, so the texts of an old config do not keep
that config in memory. At most LIMIT texts are kept (then the store starts again).
"""
from __future__ import annotations

import weakref
from typing import Iterable

from ivr.hotline import Hotline
from ivr.menus.nav import Prompt
from ivr.menus.twiml import prompt
from ivr.voice import twiml_text

LIMIT = 4096
_kept: dict[tuple, tuple[weakref.ref, weakref.ref, str]] = {}


def prompt_text(hotline: Hotline, node: Prompt, action: str, lead: Iterable[str] = ()) -> str:
    """Return the TwiML document of ivr.menus.twiml.prompt(hotline, node, action, lead)."""
    lead = tuple(lead)
    key = (id(hotline), id(node), action, lead)
    hit = _kept.get(key)
    if hit is not None and hit[0]() is hotline and hit[1]() is node:   # ids are reused only once an object is gone
        return hit[2]
    text = twiml_text.to_text(prompt(hotline, node, action, lead))
    if len(_kept) >= LIMIT:
        _kept.clear()
    _kept[key] = (weakref.ref(hotline), weakref.ref(node), text)
    return text
