"""The keypad menu model and the pure walk from key entries to where a caller ends up."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class OptionKind(str, Enum):
    """Where a key leads."""

    MENU = "menu"
    SERVICE = "service"
    SAY = "say"
    CODE = "code"
    STAFF = "staff"


@dataclass(frozen=True)
class Menu:
    """A keypad prompt: options by key, bounded retries, then `default`.

    `path` names the menu by the keys that lead to it ("" is the top menu, "3" the one behind 3).
    """

    path: str
    prompt: str
    options: dict[str, Option] = field(hash=False)
    invalid_prompt: str
    timeout_prompt: str
    retries: int = 3
    timeout: int = 6
    repeat_key: str = "*"
    default: Option | None = None


@dataclass(frozen=True)
class CodeEntry:
    """Several digits ending with #, checked against `codes` (a code -> label map).

    `allow_empty` lets a bare # through. The caller then goes on to `next`.
    """

    prompt: str
    codes: dict[str, str] = field(hash=False)
    invalid_prompt: str
    allow_empty: bool = False
    max_digits: int = 8
    retries: int = 3
    timeout: int = 8
    next: Option | None = None


@dataclass(frozen=True)
class Option:
    """One menu choice: a submenu, a service, a spoken message (then maybe more), a code entry,
    or the staff entry (declare/restore an outage; allow-listed callers with a PIN)."""

    kind: OptionKind
    label: str = ""
    menu: Menu | None = None
    service: str | None = None
    say: str | None = None
    then: Option | None = None
    code: CodeEntry | None = None


@dataclass(frozen=True)
class Walk:
    """Where key entries led: a service (with what was said on the way), or stopped at a prompt."""

    service: str | None
    said: tuple[str, ...]
    path: tuple[str, ...]
    waiting_at: str | None = None
    error: str | None = None


def walk(top: Menu, entries: list[str]) -> Walk:
    """Follow key entries (one string per prompt: "1", "153#", "#") from the top menu.

    Returns a Walk with `service` set when a service is reached; otherwise `error` or `waiting_at`
    says why not. Never raises for bad keys.
    """
    said: list[str] = []
    path: list[str] = []
    current: Menu | CodeEntry | Option = top
    queue = list(entries)
    while True:
        if isinstance(current, Option):
            if current.kind is OptionKind.SERVICE:
                left = f"key entries left over after reaching {current.service!r}: {','.join(queue)}"
                return Walk(current.service, tuple(said), tuple(path), error=left if queue else None)
            if current.kind is OptionKind.STAFF:
                return Walk(None, tuple(said), tuple(path), error="the staff entry (outage declare/restore) is not a service")
            if current.kind is OptionKind.SAY:
                said.append(current.say or "")
                if current.then is None:
                    return Walk(None, tuple(said), tuple(path), error="the call ends after a message")
                current = current.then
                continue
            current = current.menu if current.kind is OptionKind.MENU else current.code  # type: ignore[assignment]
            continue
        if not queue:
            prompt = current.prompt
            return Walk(None, tuple(said), tuple(path), waiting_at=prompt,
                        error=f"no key entry for the prompt: {prompt!r}")
        entry = queue.pop(0).strip()
        if isinstance(current, Menu):
            option = current.options.get(entry)
            if option is None:
                keys = ", ".join(sorted(current.options))
                return Walk(None, tuple(said), tuple(path),
                            error=f"key {entry!r} is not an option at {_where(path)} (options: {keys})")
            path.append(entry)
            current = option
        else:
            code = check_code(current, entry)
            if code is None:
                return Walk(None, tuple(said), tuple(path),
                            error=f"code {entry!r} is not accepted at {_where(path)}")
            path.append(entry)
            if current.next is None:
                return Walk(None, tuple(said), tuple(path), error="code entry leads nowhere")
            current = current.next


def check_code(entry: CodeEntry, typed: str) -> str | None:
    """Return the accepted code ("" for a bare # where allowed) or None when `typed` is refused."""
    digits = typed[:-1] if typed.endswith("#") else typed
    if not digits.isdigit() and digits != "":
        return None
    if digits == "":
        return "" if entry.allow_empty else None
    return digits if digits in entry.codes else None


def _where(path: list[str]) -> str:
    return "the top menu" if not path else f"menu {'/'.join(path)}"
