"""ASCII digit checks for text from webhooks, URLs and config.

`str.isdigit()` is True for `²`, `③` or `٣`, and `int()` refuses some of them: every number that
arrives as text is checked here instead.
"""
from __future__ import annotations


def is_ascii_digits(text: str) -> bool:
    """Return True when `text` is one or more of the ASCII digits 0-9 and nothing else."""
    return text.isascii() and text.isdigit()


def ascii_int(text: str, default: int | None = None, high: int | None = None) -> int | None:
    """Return `text` as a non-negative int, or `default` when it is not ASCII digits or above `high`."""
    if not is_ascii_digits(text):
        return default
    value = int(text)
    return default if high is not None and value > high else value
