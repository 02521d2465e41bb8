"""The `outages:` section of a hotline file, as admins write it (validated by pydantic).

Numbers, contact references, groups and placeholders are checked in ivr.config.outage_build.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ivr.config.schema import Ident, Strict, Text


class SenderSpec(Strict):
    from_: Text | None = Field(None, alias="from")
    messaging_service_sid: str | None = Field(None, pattern=r"^MG[0-9a-fA-F]{32}$")


class TextsSpec(Strict):
    down: str = Field(min_length=1)
    restored: str = Field(min_length=1)


class EscalationSpec(Strict):
    after_minutes: int = Field(ge=1, le=7 * 24 * 60)
    notify: list[Text] = Field(min_length=1)
    text: str = Field(min_length=1)
    restore_text: str | None = None


class StaffSpec(Strict):
    callers: list[Text] = Field(min_length=1)
    pin_hash: str
    max_attempts: int = Field(3, ge=1, le=10)
    lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    require_attestation: Literal["A"] | None = None


class OutagesSpec(Strict):
    texts: TextsSpec
    sender: SenderSpec = SenderSpec()
    rate: float = Field(10.0, gt=0, le=1000)
    groups: list[Ident] | None = None
    escalations: list[EscalationSpec] = []
    staff: StaffSpec | None = None
    announcement: str | None = None
    keep_days: int = Field(400, ge=1, le=3650)   # a restored outage and its SMS blasts expire after this

    @model_validator(mode="after")
    def _sorted(self) -> OutagesSpec:
        minutes = [e.after_minutes for e in self.escalations]
        if len(set(minutes)) != len(minutes):
            raise ValueError("two escalations with the same after_minutes: merge their notify lists")
        return self
