"""A chain step's TwiML (render.step) as text, built once per hotline, chain, step and lead.

Besides those, a step's TwiML holds three values of the call: the caller ID, the <Dial> action URL
and the screening URL of its numbers. The text is built once with stand-ins for them (plain
tokens that escaping leaves as they are) and each call's values are put in, escaped as
ElementTree escapes attribute values: the same text as serialising render.step's answer
(tests/conftest.py compares them for every step a test dials). Kept texts refer to their hotline
weakly (a reloaded config's texts do not keep it alive); at most LIMIT are kept.
"""
from __future__ import annotations

import weakref
from typing import Iterable

from ivr.calls.chain import Chain
from ivr.hotline import Hotline
from ivr.voice import render, twiml_text

LIMIT = 4096
CALLER, ACTION, SCREEN = "hotline-stand-in-caller-id", "hotline-stand-in-dial-action", "hotline-stand-in-screen-url"
_kept: dict[tuple, tuple[weakref.ref, str]] = {}


def step_text(hotline: Hotline, chain: Chain, index: int, caller_id: str, action: str, screen_url: str,
              lead: Iterable[str] = ()) -> str:
    """Return the TwiML document of render.step(hotline, chain, index, caller_id, action,
    lambda i: screen_url, lead). Raises IndexError past the last step, as render.step does."""
    lead = tuple(lead)
    if any(token in words for words in lead for token in (CALLER, ACTION, SCREEN)):
        return twiml_text.to_text(render.step(hotline, chain, index, caller_id, action, lambda i: screen_url, lead))
    key = (id(hotline), chain, index, lead)
    hit = _kept.get(key)
    if hit is None or hit[0]() is not hotline:   # an id is reused only once its object is gone
        built = str(render.step(hotline, chain, index, CALLER, ACTION, lambda i: SCREEN, lead))   # once: the library's own text
        if len(_kept) >= LIMIT:
            _kept.clear()
        _kept[key] = hit = (weakref.ref(hotline), built)
    text = hit[1].replace(ACTION, twiml_text.escape_attribute(action))
    text = text.replace(CALLER, twiml_text.escape_attribute(caller_id))
    if SCREEN in text:
        text = text.replace(SCREEN, twiml_text.escape_attribute(screen_url))
    return text
