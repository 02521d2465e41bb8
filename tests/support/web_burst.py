"""Bursts of signed calls against the web app as production runs it (tests/support/gunicorn.py), for
the fault tests and bench.

`play_call()` walks one call the way Twilio would (start, a key, every dial step to its end, the
status callback) and notes every webhook's time; `missing_from_record()` says what the call log
lacks for it afterwards.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ivr.callsim import CallError, CallSim, parse
from ivr.cli.call import http_post

TOKEN = "burst-token-0123456789abcdef"
CALLER = "+4534412350"


@dataclass
class Sample:
    path: str
    seconds: float
    status: int
    at: float


class Timed:
    """A post function (for CallSim) that notes (path, seconds, status, start) of every webhook."""

    def __init__(self):
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

    def __call__(self, url: str, params: dict, headers: dict) -> tuple[int, str]:
        started = time.monotonic()
        status, body = http_post(url, params, headers)
        took = time.monotonic() - started
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        with self._lock:
            self.samples.append(Sample(path, took, status, started))
        return status, body


@dataclass
class Played:
    """What one call did: its CallSid, keys, dial rings, and whether it hit Twilio's fallback URL."""

    sid: str
    says_first: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    rings: int = 0
    fallback: bool = False
    error: str | None = None


def play_call(post: Timed, base: str, line: str, key: str = "1", fallback: bool = False) -> Played:
    """Play one call: start, press `key`, ring every dial step (screened: decline, else no answer),
    then the status callback. `fallback` also posts Twilio's Fallback URL once (as after an error).

    Never raises: a webhook that answers anything but 200 TwiML is noted in `error`.
    """
    sim = CallSim(post, line, CALLER, TOKEN, base_url=base)
    played = Played(sim.sid)
    try:
        played.says_first = sim.start().says
        if sim.turn.kind == "gather":
            sim.press(key)
            played.keys.append(key)
        while sim.turn.kind == "dial" and played.rings < 10:
            screened = any(url for _, url in sim.turn.numbers)
            sim.ring("decline" if screened else "no-answer")
            played.rings += 1
        if fallback:
            parse(base + "/voice/fallback", *post(*_signed(sim, "/voice/fallback", ErrorCode="11200")))
            played.fallback = True
        sim.hang_up()
    except CallError as exc:
        played.error = str(exc)
    return played


def _signed(sim: CallSim, path: str, **extra) -> tuple[str, dict, dict]:
    from ivr.callsim import sign

    url = sim.base + path
    params = sim._call_params(**extra)
    return url, params, {"X-Twilio-Signature": sign(sim.token, url, params)}


def missing_from_record(played: Played, record: dict | None) -> list[str]:
    """Return what the call log lacks for a played call ([] when its record is complete)."""
    if record is None:
        return ["no record at all"]
    gaps = []
    if record.get("from") != CALLER or record.get("started_at") is None:
        gaps.append("start")
    if record.get("keys") != played.keys:
        gaps.append(f"keys {record.get('keys')} != {played.keys}")
    if played.keys and record.get("service") is None:
        gaps.append("service")
    dial_attempts = [a for a in record.get("attempts", []) if a.get("step") != "fallback"]
    if len(dial_attempts) != played.rings:
        gaps.append(f"{len(dial_attempts)} of {played.rings} dial attempts")
    if record.get("ended_at") is None:
        gaps.append("end")
    if record.get("outcome") in (None, "in_progress"):
        gaps.append("outcome")
    return gaps
