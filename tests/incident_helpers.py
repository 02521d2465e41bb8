"""Shared bits of the incident tests: a hotline with notify lists, calls that end in a miss."""
from __future__ import annotations

import datetime as dt

from tests.support.voice import TEST_YAML, config_from_text

# Tuesday 2026-11-24 11:00 in Copenhagen: office hours, the desk takes system calls.
OFFICE = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone.utc)
TECH1, TECH2, DUTY = "+4534412362", "+4534412363", "+4534412361"


def notify_yaml(renotify: str = "10m", extra: str = "") -> str:
    """Return the test hotline with a default notify list (tech1, tech2; then duty)."""
    return TEST_YAML.replace("services:", f"""notify:
  - to: [tech1, tech2]
    renotify_after: {renotify}
  - to: [duty]
{extra}services:""", 1)


def notify_config(renotify: str = "10m", extra: str = ""):
    return config_from_text(notify_yaml(renotify, extra))


def outage_yaml(renotify: str) -> str:
    """The test hotline whose one service (system nexus) always goes to the desk, which ends in
    voicemail (no schedule rule: what happens does not depend on when a test runs)."""
    text = notify_yaml(renotify).replace(
        "system: {name: Fagsystemet, rules: [{while: office, target: desk}], default: techs}",
        "system: {name: Fagsystemet, system: nexus, default: desk}", 1)
    return text + "systems:\n  nexus: {name: Nexus}\n"


def missed_into_voicemail(app, caller: str = "+4534412350", message: bool = True):
    """Play a call that reaches the desk, nobody answers, the caller leaves a message; returns the sim."""
    call = app.call(caller=caller)
    call.start()
    call.press("1")
    call.ring("no-answer")
    call.leave_message() if message else call.leave_message("")
    call.hang_up()
    return call


def answered_by_desk(app):
    call = app.call()
    call.start()
    call.press("1")
    call.ring("accept")
    call.hang_up()
    return call
