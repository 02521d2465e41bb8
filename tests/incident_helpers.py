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


def paged_missed_call(voice_app, redis_url: str, monkeypatch, line: str = "+4570112299"):
    """Set up incident 1 of `line`: a missed call whose first page went to tech1 and tech2 (no
    worker: the sending waits). Returns (the app, a Redis client)."""
    from ivr.incidents import paging
    from ivr.incidents.jobs import settle_call, snapshot
    from tests.sms_helpers import client
    from tests.support.voice import BASE_URL

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", line)
    app = voice_app(notify_config(), at=OFFICE)
    call = missed_into_voicemail(app)
    r = client(redis_url)
    settle_call(r, snapshot(app.config.lines()[0], call.caller, BASE_URL), call.sid, OFFICE)
    assert paging.page(line, 1, 0) == "sent"
    return app, r
