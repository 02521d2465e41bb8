"""Keypad prompts as TwiML text, built once per process and kept.

A prompt's TwiML depends only on the hotline (voice, language), the prompt's node, the action
URL and the sentences said before it: every new call to a line hears the same greeting and top
menu, and every wrong key at a menu the same re-prompt. Hotlines and menu nodes are frozen
dataclasses and a config reload makes new ones, so a kept text is only used for the very
objects it was built from, and does not keep them alive (ivr.kept). At most LIMIT texts are kept.
"""
from __future__ import annotations

from typing import Iterable

from ivr.hotline import Hotline
from ivr.kept import KeptPerObject
from ivr.menus.nav import Prompt
from ivr.menus.twiml import prompt
from ivr.voice import twiml_text

LIMIT = 4096
_kept = KeptPerObject(LIMIT)


def prompt_text(hotline: Hotline, node: Prompt, action: str, lead: Iterable[str] = ()) -> str:
    """Return the TwiML document of ivr.menus.twiml.prompt(hotline, node, action, lead)."""
    lead = tuple(lead)
    return _kept.get((action, lead), lambda: twiml_text.to_text(prompt(hotline, node, action, lead)), hotline, node)
