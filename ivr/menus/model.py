"""The keypad menu model: menus, options, code entries (navigation lives in ivr.menus.nav)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ivr.digits import is_ascii_digits


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


def check_code(entry: CodeEntry, typed: str) -> str | None:
    """Return the accepted code ("" for a bare # where allowed) or None when `typed` is refused."""
    digits = typed[:-1] if typed.endswith("#") else typed
    if not is_ascii_digits(digits) and digits != "":
        return None
    if digits == "":
        return "" if entry.allow_empty else None
    return digits if digits in entry.codes else None

