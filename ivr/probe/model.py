"""The `probe:` section of a hotline, as loaded: who the probe calls from and what it presses."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ProbePolicy:
    """A hotline's automatic test calls.

    `callers`: the probe's own numbers (E.164); a call from one of them is a probe, and the first
    places the calls. `keys`: key entries, one per prompt (e.g. ("1", "153#")). `admins`: numbers
    texted when a probe fails. `daily_at`: local time of the daily probe, None for no schedule.
    """

    callers: tuple[str, ...]
    keys: tuple[str, ...]
    admins: tuple[str, ...] = ()
    daily_at: dt.time | None = dt.time(3, 0)

    @property
    def caller(self) -> str:
        """Return the number the probe calls from."""
        return self.callers[0]
