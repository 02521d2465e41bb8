"""The shape of a hotline config file, as admins write it (validated by pydantic).

Cross-references (schedule, target, contact, service names) and phone numbers are checked
afterwards in ivr.config.build, where the hotline's country is known.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ivr.config.notify_schema import NotifySpec


def _as_text(value: object) -> object:
    """Numbers written without quotes (43282020) are read as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_as_text)]
Key = Annotated[str, Field(pattern=r"^[0-9#*]$")]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HolidaysSpec(Strict):
    categories: list[str] = ["public"]
    extra: dict[str, str] = {}
    exclude: list[str] = []


class LineSpec(Strict):
    name: str
    numbers: list[Text] = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    subdivision: str | None = None
    timezone: str
    language: str = "en-US"
    voice: str = "alice"
    fallback: Text
    holidays: HolidaysSpec = HolidaysSpec()
    description: str = ""
    call_log_days: int = Field(90, ge=1, le=3650)   # call records expire after this many days
    caller_id: Text = "hotline"                     # "hotline", "caller" or a number (E.164 after build)


class ContactSpec(Strict):
    name: str
    number: Text
    note: str = ""


class OverrideSpec(Strict):
    name: str
    from_: Text = Field(alias="from")
    to: Text
    hours: list[str] | None = None
    open: bool | None = None
    announcement: str | None = None


# "closed", "normal", "as_sunday" (any weekday), {hours: [...]} or {close_at: "14:00"}; parsed in build.
Policy = str | dict[str, object]


class ScheduleSpec(Strict):
    label: str
    hours: dict[str, list[str]] = {}
    holidays: Policy = "closed"
    eves: Policy = "normal"
    overrides: list[OverrideSpec] = []


class StepSpec(Strict):
    call: list[Text] = Field(min_length=1)
    timeout: int = Field(25, ge=5, le=600)
    screen: bool = False


class ExhaustedSpec(Strict):
    voicemail: str | None = None
    dial: Text | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ExhaustedSpec:
        given = [k for k in ("voicemail", "dial", "message") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of voicemail, dial, message")
        return self


class TargetSpec(Strict):
    name: str
    kind: Literal["service_desk", "on_call", "emergency", "closed"]
    steps: list[StepSpec] = []
    exhausted: ExhaustedSpec | None = None
    announcement: str | None = None
    notify: NotifySpec | None = None                # who hears of a missed call (else the hotline's)


class RuleSpec(Strict):
    while_: Ident = Field(alias="while")
    target: Ident


class ServiceSpec(Strict):
    name: str
    system: Ident | None = None
    announcement: str | None = None
    rules: list[RuleSpec] = []
    default: Ident


class CodeSpec(Strict):
    prompt: str
    codes: dict[Text, str] | list[Text]
    allow_empty: bool = False
    invalid_prompt: str | None = None
    retries: int = Field(3, ge=1, le=5)
    timeout: int = Field(8, ge=3, le=30)
    then: OptionSpec


class OptionSpec(Strict):
    label: str = ""
    service: Ident | None = None
    menu: MenuSpec | None = None
    say: str | None = None
    then: OptionSpec | None = None
    code: CodeSpec | None = None
    staff: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> OptionSpec:
        given = [k for k in ("service", "menu", "say", "code", "staff") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an option leads to exactly one of service, menu, say, code, staff")
        if self.then is not None and self.say is None:
            raise ValueError("'then' follows only a 'say' option")
        return self


class MenuSpec(Strict):
    prompt: str
    options: dict[Key, OptionSpec] = Field(min_length=1)
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None
    retries: int = Field(3, ge=1, le=5)
    timeout: int = Field(6, ge=3, le=30)
    repeat_key: Key = "*"
    default: OptionSpec | None = None


class SiteSpec(Strict):
    name: str
    number: Text


class SystemSpec(Strict):
    name: str


class ProbeSpec(Strict):
    """Automatic test calls (ivr.probe): from `callers` (the first places them), pressing `keys`."""

    callers: list[Text] = Field(min_length=1)
    keys: Text | None = None                  # "1" or "1,153#,1"; default: the first service without codes
    admins: list[Text] = []                   # contact ids or numbers texted when a probe fails
    daily_at: Text | None = "03:00"           # local time of the daily probe; null: no schedule


from ivr.config.outage_schema import OutagesSpec  # noqa: E402  (needs Strict, Ident, Text above)


class HotlineSpec(Strict):
    hotline: LineSpec
    contacts: dict[Ident, ContactSpec] = {}
    schedules: dict[Ident, ScheduleSpec] = {}
    targets: dict[Ident, TargetSpec]
    services: dict[Ident, ServiceSpec] = Field(min_length=1)
    menu: MenuSpec
    systems: dict[Ident, SystemSpec] = {}
    sites: dict[Ident, list[SiteSpec]] = {}
    outages: OutagesSpec | None = None
    notify: NotifySpec | None = None                # the default for targets without their own
    probe: ProbeSpec | None = None


def menu_options(menu: MenuSpec, path: tuple = ("menu",)) -> Iterator[tuple[OptionSpec, tuple]]:
    """Yield (option, field path) for every option reachable in `menu`: submenus, 'then' chains,
    code entries' next options and menu defaults included."""
    stack: list[tuple[OptionSpec, tuple]] = [(o, path + ("options", k)) for k, o in menu.options.items()]
    if menu.default is not None:
        stack.append((menu.default, path + ("default",)))
    while stack:
        option, where = stack.pop()
        yield option, where
        if option.menu is not None:
            yield from menu_options(option.menu, where + ("menu",))
        if option.then is not None:
            stack.append((option.then, where + ("then",)))
        if option.code is not None:
            stack.append((option.code.then, where + ("code", "then")))


CodeSpec.model_rebuild()
OptionSpec.model_rebuild()
MenuSpec.model_rebuild()
