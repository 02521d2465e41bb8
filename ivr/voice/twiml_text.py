"""TwiML to text without ElementTree: the same bytes as the twilio library's `str(response)`.

The library builds an ElementTree and serialises it, which costs more than building the answer
itself. This walks the same TwiML objects (name, attributes, value, nested verbs) and escapes
as ElementTree does, attributes in sorted order. tests/conftest.py checks it against `str()` for
every answer the voice tests produce.
"""
from __future__ import annotations

import json

from twilio.twiml import TwiML

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def to_text(resp: TwiML) -> str:
    """Return the TwiML document (with the XML declaration) exactly as `str(resp)` would.

    Raises TypeError for a text that is not a string (as ElementTree does).
    """
    out = [DECLARATION]
    _write(resp, out)
    return "".join(out)


def escape_text(text: str) -> str:
    """Return element text escaped as ElementTree does (&, <, >)."""
    if not isinstance(text, str):
        raise TypeError(f"cannot serialize {text!r} (type {type(text).__name__})")
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attribute(value: str) -> str:
    """Return an attribute value escaped as ElementTree does (also quotes, CR, LF and tabs)."""
    value = escape_text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#09;")
    return value


def _write(node: TwiML, out: list[str]) -> None:
    out.append("<" + node.name)
    attrs = node.attrs
    for key in sorted(attrs):
        value = attrs[key]
        out.append(f' {key}="{escape_attribute(str(value).lower() if isinstance(value, bool) else str(value))}"')
    text = node.value or None
    if isinstance(text, dict):
        text = json.dumps(text)
    children: list[list] = []  # [child, tail]
    for verb in node.verbs:
        if isinstance(verb, str):
            if children:
                children[-1][1] = verb
            else:
                text = verb
        else:
            children.append([verb, None])
    if not text and not children:
        out.append(" />")
        return
    out.append(">")
    if text:
        out.append(escape_text(text))
    for child, tail in children:
        _write(child, out)
        if tail:
            out.append(escape_text(tail))
    out.append(f"</{node.name}>")
