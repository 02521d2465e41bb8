"""Timing knobs of the SMS machinery, read from the environment (defaults suit production)."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _num(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class SmsSettings:
    """lease: seconds a worker owns a recipient (3/4 of it must exceed one HTTP attempt, see twilio_timeout);
    watch: seconds between watchdog looks at an unfinished blast; batch: recipients per job;
    attempts_per_claim / max_attempts: tries before handing a recipient back / giving up;
    backoff: first retry delay in seconds (doubles, capped at backoff_cap);
    doubt_settle: seconds to wait after a create that got no answer (timeout, cut connection)
    before searching Twilio's list: the request may still be turned into a message late."""

    lease: float = 60.0
    watch: float = 15.0
    batch: int = 50
    attempts_per_claim: int = 5
    max_attempts: int = 30
    backoff: float = 0.5
    backoff_cap: float = 30.0
    keep_days: int = 30
    doubt_settle: float = 60.0

    @classmethod
    def from_env(cls) -> SmsSettings:
        """Return settings from HOTLINE_SMS_* variables, defaults for the ones unset."""
        return cls(
            lease=_num("HOTLINE_SMS_LEASE_SECONDS", cls.lease),
            watch=_num("HOTLINE_SMS_WATCH_SECONDS", cls.watch),
            batch=int(_num("HOTLINE_SMS_BATCH", cls.batch)),
            attempts_per_claim=int(_num("HOTLINE_SMS_ATTEMPTS_PER_CLAIM", cls.attempts_per_claim)),
            max_attempts=int(_num("HOTLINE_SMS_MAX_ATTEMPTS", cls.max_attempts)),
            backoff=_num("HOTLINE_SMS_BACKOFF_SECONDS", cls.backoff),
            backoff_cap=_num("HOTLINE_SMS_BACKOFF_CAP_SECONDS", cls.backoff_cap),
            keep_days=int(_num("HOTLINE_SMS_KEEP_DAYS", cls.keep_days)),
            doubt_settle=_num("HOTLINE_SMS_DOUBT_SETTLE_SECONDS", cls.doubt_settle),
        )
