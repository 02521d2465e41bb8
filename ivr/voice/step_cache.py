"""A chain step's TwiML (render.step) as text, built once per hotline, chain, step and lead.

Besides those, a step's TwiML holds three values of the call: the caller ID, the <Dial> action URL
and the screening URL of its numbers. The text is built once with stand-ins for them (plain
tokens that escaping leaves as they are) and each call's values are put in, escaped as
ElementTree escapes attribute values: the same text as serialising render.step's answer
(tests/conftest.py compares them for every step a test dials). Kept per hotline object without
keeping it alive (ivr.kept); at most LIMIT texts.
"""
from __future__ import annotations

from typing import Iterable

from ivr.calls.chain import Chain
from ivr.hotline import Hotline
from ivr.kept import KeptPerObject
from ivr.voice import render, twiml_text

LIMIT = 4096
CALLER, ACTION, SCREEN = "hotline-stand-in-caller-id", "hotline-stand-in-dial-action", "hotline-stand-in-screen-url"
_kept = KeptPerObject(LIMIT)


def step_text(hotline: Hotline, chain: Chain, index: int, caller_id: str, action: str, screen_url: str,
              lead: Iterable[str] = ()) -> str:
    """Return the TwiML document of render.step(hotline, chain, index, caller_id, action,
    lambda i: screen_url, lead). Raises IndexError past the last step, as render.step does."""
    lead = tuple(lead)
    if any(token in words for words in lead for token in (CALLER, ACTION, SCREEN)):
        return twiml_text.to_text(render.step(hotline, chain, index, caller_id, action, lambda i: screen_url, lead))
    built = _kept.get((chain, index, lead),   # once: the library's own text
                      lambda: str(render.step(hotline, chain, index, CALLER, ACTION, lambda i: SCREEN, lead)), hotline)
    text = built.replace(ACTION, twiml_text.escape_attribute(action))
    text = text.replace(CALLER, twiml_text.escape_attribute(caller_id))
    if SCREEN in text:
        text = text.replace(SCREEN, twiml_text.escape_attribute(screen_url))
    return text
