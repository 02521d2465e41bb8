"""TwiML for keypad prompts: one <Gather input="dtmf"> per menu or code-entry state.

Every builder returns a twilio VoiceResponse; callers turn it into text with str().
"""
from __future__ import annotations

from typing import Iterable

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.hotline import Hotline
from ivr.menus.model import Menu
from ivr.menus.nav import Prompt


def speak(parent: VoiceResponse | Gather, words: str, hotline: Hotline | None, loop: int | None = None) -> None:
    """Append a <Say> in the hotline's voice and language (Twilio's defaults without a hotline)."""
    if not words:
        return
    if hotline is None:
        parent.say(words, loop=loop)
    else:
        parent.say(words, voice=hotline.voice, language=hotline.language, loop=loop)


def prompt(hotline: Hotline, node: Prompt, action: str, lead: Iterable[str] = ()) -> VoiceResponse:
    """Return TwiML that says `lead`, then gathers keys for `node`, posting them to `action`.

    Menus take one key (no finish key, so # can be an option); code entries end with #.
    The trailing <Redirect> reaches `action` without Digits if Twilio ever skips the action.
    """
    resp = VoiceResponse()
    for words in lead:
        speak(resp, words, hotline)
    if isinstance(node, Menu):
        gather = Gather(input="dtmf", action=action, method="POST", timeout=node.timeout, num_digits=1,
                        finish_on_key="", action_on_empty_result=True, language=hotline.language)
    else:
        gather = Gather(input="dtmf", action=action, method="POST", timeout=node.timeout,
                        num_digits=node.max_digits + 1, finish_on_key="#", action_on_empty_result=True,
                        language=hotline.language)
    speak(gather, node.prompt, hotline)
    resp.append(gather)
    resp.redirect(action, method="POST")
    return resp


def say_and_hang_up(hotline: Hotline | None, sayings: Iterable[str]) -> VoiceResponse:
    """Return TwiML that speaks `sayings` and hangs up."""
    resp = VoiceResponse()
    for words in sayings:
        speak(resp, words, hotline)
    resp.hangup()
    return resp
