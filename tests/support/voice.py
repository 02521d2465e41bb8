"""Helpers for voice tests: an app on real Redis, signed simulated calls, TwiML checks."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ivr.app import create_app, state_of
from ivr.callsim import CallSim, path_of
from ivr.config.load import Config, load_config

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE_URL = "https://hotline.example.org"
CALLER = "+4534412350"
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


class Clock:
    """A settable clock for the app (aware datetimes)."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@dataclass
class VoiceApp:
    """A test app, its client and clock; `call()` starts a signed simulated call."""

    app: object
    client: object
    clock: Clock
    config: Config

    @property
    def state(self):
        return state_of(self.app)

    def post(self, url: str, params: dict, headers: dict) -> tuple[int, str]:
        resp = self.client.post(path_of(url), data=params, headers=headers)
        # Twilio's next webhook of a call comes a network round trip later, by when the process's
        # write-behind has long written this one's events: a test reads after it did.
        assert self.state.store.settle(), "the write-behind did not write a webhook's events within 10 s"
        return resp.status_code, resp.get_data(as_text=True)

    def call(self, line: str | None = None, caller: str = CALLER, token: str = AUTH_TOKEN) -> CallSim:
        line = line or self.config.lines()[0].line
        return CallSim(self.post, line, caller, token, base_url=BASE_URL)

    def record(self, sid: str) -> dict | None:
        return self.state.store.record(sid)


def make_voice_app(redis_url: str | None, spool_dir: Path, config: Config | None = None,
                   at: dt.datetime | None = None, **overrides) -> VoiceApp:
    """Return a VoiceApp (signature check on, PUBLIC_BASE_URL set, Redis pause 0)."""
    config = config or load_config(None)
    clock = Clock(at or dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone.utc))
    app = create_app(config, redis_url=redis_url, auth_token=AUTH_TOKEN, public_base_url=BASE_URL,
                     now=clock, spool_dir=str(spool_dir), verify_signatures=True,
                     redis_pause=overrides.pop("redis_pause", 0.0), **overrides)
    app.testing = True
    return VoiceApp(app, app.test_client(), clock, config)


def service_paths(menu) -> list[tuple[list[str], str]]:
    """Return (key entries, service id) for every way the menu reaches a service (codes: one valid)."""
    from ivr.menus.model import Menu, OptionKind

    out: list[tuple[list[str], str]] = []

    def visit(node, keys: list[str], depth: int) -> None:
        if depth > 6:
            return
        if isinstance(node, Menu):
            for key, option in sorted(node.options.items()):
                follow(option, keys + [key], depth)
        else:
            entry = next(iter(node.codes), None)
            typed = f"{entry}#" if entry is not None else "#"
            follow(node.next, keys + [typed], depth)

    def follow(option, keys: list[str], depth: int) -> None:
        while option is not None and option.kind is OptionKind.SAY:
            option = option.then
        if option is None:
            return
        if option.kind is OptionKind.SERVICE:
            out.append((keys, option.service))
        elif option.kind is OptionKind.MENU:
            visit(option.menu, keys, depth + 1)
        elif option.kind is OptionKind.CODE:
            visit(option.code, keys, depth + 1)

    visit(menu, [], 0)
    return out


def sample_moments(tz) -> list[dt.datetime]:
    """Return moments over a week (and a few holidays) in zone `tz`, to meet every route."""
    base = dt.datetime(2026, 11, 23, tzinfo=tz)  # a Monday
    out = [base + dt.timedelta(days=d, hours=h, minutes=m)
           for d in range(7) for h in (3, 7, 9, 12, 14, 16, 18, 20, 22) for m in (0, 45)]
    for day in ("2026-12-24 10:00", "2026-12-25 12:00", "2026-12-31 14:00", "2027-01-01 10:00",
                "2026-06-05 10:00", "2026-06-19 12:00"):
        out.append(dt.datetime.fromisoformat(day).replace(tzinfo=tz))
    return out


def config_from_text(text: str, source: str = "test.yaml") -> Config:
    """Return a Config holding the one hotline described by YAML `text`."""
    from ivr.config.load import load_text

    hotline = load_text(text, source)
    return Config(hotlines={n: hotline for n in hotline.numbers}, version=hotline.version, source=source)


TEST_YAML = """
hotline:
  name: Testlinjen
  numbers: ["+45 70 11 22 99"]
  country: DK
  timezone: Europe/Copenhagen
  language: da-DK
  voice: Polly.Naja
  fallback: duty
  call_log_days: 3
contacts:
  desk: {name: Servicedesk, number: "+45 34 41 23 60"}
  duty: {name: Vagten, number: "+45 34 41 23 61"}
  tech1: {name: Tekniker 1, number: "+45 34 41 23 62"}
  tech2: {name: Tekniker 2, number: "+45 34 41 23 63"}
  alarm: {name: Beredskabet, number: "+45 34 41 23 64"}
schedules:
  office:
    label: Kontortid
    hours: {mon-fri: ["08:00-16:00"]}
targets:
  desk: {name: Servicedesk, kind: service_desk, steps: [{call: [desk], timeout: 20}], exhausted: {voicemail: "Læg en besked."}}
  techs:
    name: Teknikerne
    kind: on_call
    steps: [{call: [tech1], timeout: 30, screen: true}, {call: [tech2, duty], timeout: 40}]
    exhausted: {dial: duty}
  alarm:
    name: Beredskabet
    kind: emergency
    steps: [{call: [alarm], timeout: 60}]
    exhausted: {message: "Beredskabet svarer ikke. Ring 112 ved fare for liv."}
services:
  system: {name: Fagsystemet, rules: [{while: office, target: desk}], default: techs}
  alarm: {name: Nødkald, default: alarm}
menu:
  prompt: "Tryk 1 for fagsystemet. Tryk 2 for flere valg. Tryk 9 for beredskabet."
  invalid_prompt: "Forkert tast."
  timeout_prompt: "Vi hørte ingen tast."
  retries: 2
  options:
    "1": {service: system}
    "2":
      menu:
        prompt: "Tryk 1 for gode råd. Tryk 2 for kode. Tryk 3 for personale."
        options:
          "1": {say: "Gem kørelisterne på USB."}
          "2":
            code:
              prompt: "Tast koden og firkant."
              codes: ["153", "42"]
              retries: 3
              then: {say: "Tak.", then: {service: system}}
          "3": {staff: true}
    "9": {service: alarm}
  default: {service: system}
"""
