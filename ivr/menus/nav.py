"""Pure keypad navigation for live calls: where a position is, what a key entry there means.

A position is the tuple of entries that led to a prompt from the top menu: a menu key ("2"),
an accepted code with its "#" ("153#", or "#" for a bare #), or "~" for a menu's default.
It travels in webhook URLs (see encode/decode), so navigation needs no Redis.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ivr.menus.model import CodeEntry, Menu, Option, OptionKind, check_code

Prompt = Menu | CodeEntry
DEFAULT_ENTRY = "~"
MAX_DIGITS = 32
MASK = "***"  # stands in the call record for digits typed at a menu that are not one key
_DIGITS = re.compile(r"^[0-9*#]*$")
_PATH = re.compile(r"^[0-9*#~.]{0,200}$")


class Heard(str, Enum):
    """What a Gather result means at a prompt."""

    CHOSEN = "ok"
    INVALID = "invalid"
    TIMEOUT = "timeout"
    REPEAT = "repeat"


@dataclass(frozen=True)
class Entry:
    """The meaning of one Gather result: `option` and `entry` (for the path) when CHOSEN.

    `digits` is what the call record may keep: at a menu, anything but a single key is MASK
    (a PIN or a phone number typed at the wrong prompt is never stored); at a code prompt, the code.
    """

    heard: Heard
    digits: str
    option: Option | None = None
    entry: str | None = None


@dataclass(frozen=True)
class Landing:
    """Where an option leads: spoken texts on the way, then a prompt, or a final option, or nothing."""

    says: tuple[str, ...]
    prompt: Prompt | None
    final: Option | None     # SERVICE or STAFF


def encode(path: tuple[str, ...]) -> str:
    """Return a position as URL text ("" for the top menu)."""
    return ".".join(path)


def decode(text: str | None) -> tuple[str, ...] | None:
    """Return the position in URL text, or None when it is malformed."""
    text = text or ""
    if not _PATH.match(text):
        return None
    return tuple(text.split(".")) if text else ()


def follow(option: Option | None) -> Landing:
    """Return where `option` leads, speaking any SAY options on the way."""
    says: list[str] = []
    hops = 0
    while option is not None and hops < 50:
        hops += 1
        if option.kind is OptionKind.SAY:
            says.append(option.say or "")
            option = option.then
            continue
        if option.kind is OptionKind.MENU:
            return Landing(tuple(says), option.menu, None)
        if option.kind is OptionKind.CODE:
            return Landing(tuple(says), option.code, None)
        return Landing(tuple(says), None, option)
    return Landing(tuple(says), None, None)


def locate(top: Menu, path: tuple[str, ...]) -> Prompt | None:
    """Return the prompt reached by `path` from `top`, or None when the path leads nowhere."""
    node: Prompt = top
    for entry in path:
        option = _option_for(node, entry)
        if option is None:
            return None
        landing = follow(option)
        if landing.prompt is None:
            return None
        node = landing.prompt
    return node


def _option_for(node: Prompt, entry: str) -> Option | None:
    if isinstance(node, Menu):
        return node.default if entry == DEFAULT_ENTRY else node.options.get(entry)
    if entry == DEFAULT_ENTRY or not entry.endswith("#"):
        return None
    return node.next if check_code(node, entry) is not None else None


def interpret(node: Prompt, digits: str | None, finished_on_key: str | None = None) -> Entry:
    """Return what `digits` (Twilio's Digits, maybe missing or junk) mean at prompt `node`."""
    raw = (digits or "").strip()
    if isinstance(node, Menu):
        if len(raw) > 1:
            return Entry(Heard.INVALID, MASK)
        if raw == "":
            return Entry(Heard.TIMEOUT, raw)
        if raw == node.repeat_key:
            return Entry(Heard.REPEAT, raw)
        option = node.options.get(raw)
        if option is None:
            return Entry(Heard.INVALID, raw if _DIGITS.match(raw) else MASK)
        return Entry(Heard.CHOSEN, raw, option, raw)
    if len(raw) > MAX_DIGITS or not _DIGITS.match(raw):
        return Entry(Heard.INVALID, raw[:MAX_DIGITS])
    if raw == "" and finished_on_key != "#":
        return Entry(Heard.TIMEOUT, raw)
    if raw == "*":
        return Entry(Heard.REPEAT, raw)
    typed = raw if raw.endswith("#") else raw + "#"
    code = check_code(node, typed)
    if code is None or node.next is None:
        return Entry(Heard.INVALID, raw)
    return Entry(Heard.CHOSEN, raw, node.next, f"{code}#")


@dataclass(frozen=True)
class Walk:
    """Where key entries led: a service (with what was said on the way), or stopped at a prompt."""

    service: str | None
    said: tuple[str, ...]
    path: tuple[str, ...]
    waiting_at: str | None = None
    error: str | None = None


def walk(top: Menu, entries: list[str]) -> Walk:
    """Follow key entries (one string per prompt: "1", "153#", "#") from the top menu, as a call does.

    Returns a Walk with `service` set when a service is reached; otherwise `error` or `waiting_at`
    says why not. Never raises for bad keys.
    """
    said: list[str] = []
    path: list[str] = []
    node: Prompt = top
    queue = [entry.strip() for entry in entries]
    while True:
        if not queue:
            return Walk(None, tuple(said), tuple(path), waiting_at=node.prompt,
                        error=f"no key entry for the prompt: {node.prompt!r}")
        entry = queue.pop(0)
        where = "the top menu" if not path else f"menu {'/'.join(path)}"
        if isinstance(node, Menu):
            option = node.options.get(entry)
            if option is None:
                keys = ", ".join(sorted(node.options))
                return Walk(None, tuple(said), tuple(path),
                            error=f"key {entry!r} is not an option at {where} (options: {keys})")
        else:
            option = node.next if check_code(node, entry) is not None else None
            if option is None:
                return Walk(None, tuple(said), tuple(path), error=f"code {entry!r} is not accepted at {where}")
        path.append(entry)
        landing = follow(option)
        said.extend(landing.says)
        final = landing.final
        if final is not None and final.kind is OptionKind.STAFF:
            return Walk(None, tuple(said), tuple(path),
                        error="the staff entry (outage declare/restore) is not a service")
        if final is not None:
            left = f"key entries left over after reaching {final.service!r}: {','.join(queue)}"
            return Walk(final.service, tuple(said), tuple(path), error=left if queue else None)
        if landing.prompt is None:
            return Walk(None, tuple(said), tuple(path), error="the call ends after a message")
        node = landing.prompt
