"""The `notify:` lists of a hotline file (per target, and the hotline's default), as admins write them.

    notify:                          # who hears of a missed call, list after list
      - to: [homecare_duty]          # contact ids or numbers
        renotify_after: 10m          # nobody acknowledged by then: page the next list
      - to: [it_contact]
    notify: [homecare_duty]          # short form: one list, paged once

Numbers and contact references are checked in ivr.config.notify_build; an empty list is refused
there (a missed call would reach no one). This module imports nothing from ivr.config.schema.
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_DURATION = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "": 60}


def _text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def seconds(value: object) -> object:
    """Return "90s", "10m", "1h" or a bare number of minutes as seconds (other values unchanged)."""
    if isinstance(value, bool):
        return value
    match = _DURATION.match(str(value)) if isinstance(value, (int, str)) else None
    if match is None:
        return value
    return int(match.group(1)) * _UNIT[match.group(2)]


class NotifyLevelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    to: list[Annotated[str, BeforeValidator(_text)]]
    renotify_after: Annotated[int, BeforeValidator(seconds), Field(ge=1, le=7 * 86400)] | None = None


def _short_form(value: object) -> object:
    """A plain list of contacts/numbers is one list paged once."""
    if isinstance(value, list) and value and all(isinstance(v, (str, int)) for v in value):
        return [{"to": value}]
    return value


NotifySpec = Annotated[list[NotifyLevelSpec], BeforeValidator(_short_form)]
