"""Place a probe call through Twilio's REST API, wait for it to end, and check its call log record.

The call goes from the probe's number to the hotline, with `Url` the hotline's voice webhook
(PUBLIC_BASE_URL/voice) and the key entries as `SendDigits` (see send_digits). Before placing it
a token is left in Redis for (line, probe number); the app takes it when the call arrives and
links it to its CallSid, so the record is found whichever leg's SID Twilio reports.
"""
from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import requests
from twilio.base.exceptions import TwilioRestException

from ivr import keys as rkeys
from ivr.calls.events import utc_iso
from ivr.calls.store import CallStore
from ivr.hotline import Hotline
from ivr.probe.expect import NoService, differences, expected, logged

FINAL = ("completed", "busy", "failed", "no-answer", "canceled")
MAX_SEND_DIGITS = 32   # Twilio's limit on SendDigits
PENDING_SECONDS = 600  # how long a placed probe waits in Redis for its call to arrive


class ProbeError(RuntimeError):
    """The probe could not be made or checked (Twilio refused, the call never came, ...)."""


@dataclass
class ProbeResult:
    """One probe: ok when the call's keys and decision match routing for the call's moment."""

    line: str
    ok: bool
    at: str                              # when the probe ran (UTC ISO, the prober's clock)
    keys: list[str]
    call_sid: str | None = None          # the Calls resource placed
    logged_sid: str | None = None        # the call as the hotline logged it
    call_status: str | None = None
    differences: list[str] = field(default_factory=list)
    error: str | None = None
    detail: str | None = None            # what the app said (the route) or why it ended

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """Return one line for people: ok, or what differed / went wrong."""
        if self.ok:
            return f"probe {self.line}: ok ({self.detail or 'route as expected'})"
        problems = self.differences or [self.error or "failed"]
        return f"probe {self.line} FAILED: " + "; ".join(problems)


def send_digits(entries: tuple[str, ...]) -> str:
    """Return SendDigits for key entries: a one-second pause ('W') before the first entry and two
    between entries, so each entry lands in its own prompt; raises ProbeError when over 32 keys."""
    digits = "W" + "WW".join(entries)
    if len(digits) > MAX_SEND_DIGITS:
        raise ProbeError(f"key entries {','.join(entries)} need {len(digits)} SendDigits characters "
                         f"(Twilio allows {MAX_SEND_DIGITS})")
    return digits


def run_probe(hotline: Hotline, entries: tuple[str, ...], client, redis, store: CallStore, base_url: str,
              wait: float = 180.0, poll: float = 1.0, now: Callable[[], dt.datetime] | None = None,
              sleep: Callable[[float], None] = time.sleep) -> ProbeResult:
    """Place one probe call and return its result; never raises for Twilio, call or record trouble
    (they become a failed result). Raises redis errors when the token cannot be left.

    `client`: a twilio Client; `redis`: the Redis the app writes (decoded strings); `store`: the
    call log; `base_url`: PUBLIC_BASE_URL of the app Twilio reaches.
    """
    now = now or (lambda: dt.datetime.now(dt.timezone.utc))
    result = ProbeResult(hotline.line, False, utc_iso(now()), list(entries))
    if hotline.probe is None:
        result.error = f"{hotline.line} has no probe: section (the probe's caller number)"
        return result
    try:
        digits = send_digits(entries)
    except ProbeError as exc:
        result.error = str(exc)
        return result
    token = secrets.token_hex(12)
    redis.set(rkeys.probe_pending(hotline.line, hotline.probe.caller), token, ex=PENDING_SECONDS)
    base = base_url.rstrip("/")
    try:
        call = client.calls.create(to=hotline.line, from_=hotline.probe.caller, url=f"{base}/voice",
                                   method="POST", send_digits=digits, status_callback=f"{base}/voice/status",
                                   status_callback_method="POST")
        result.call_sid = call.sid
        result.call_status = _wait_for_end(client, call.sid, wait, poll, sleep)
    except TwilioRestException as exc:
        result.error = f"Twilio refused the call: {exc.status} {exc.code} {exc.msg}"
        return result
    except (requests.ConnectionError, requests.Timeout) as exc:
        result.error = f"Twilio could not be reached: {type(exc).__name__}"
        return result
    except ProbeError as exc:
        result.error = str(exc)
        return result
    record = _find_record(redis, store, token, wait=min(wait, 10.0), poll=poll, sleep=sleep)
    if record is None:
        result.error = (f"the call ended ({result.call_status}) but the hotline logged no probe call: "
                        "is the number's voice webhook this app, with this probe number configured?")
        return result
    result.logged_sid, result.detail = record["call_sid"], record.get("detail")
    got = logged(record)
    try:
        at = dt.datetime.fromisoformat(got["at"]) if got.get("at") else None
        want = expected(hotline, entries, at) if at else None
    except NoService as exc:
        result.error = str(exc)
        return result
    if want is None:
        result.differences = [f"the call reached no service: {record.get('detail') or 'no decision logged'}"]
        if record.get("keys") != list(entries):
            result.differences.insert(0, f"keys: expected {','.join(entries)}, the call had "
                                         f"{','.join(record.get('keys') or []) or '(none)'}")
        return result
    result.differences = differences(want, got)
    if want["config_version"] != got.get("config_version"):
        result.detail = (f"{result.detail or ''} (note: the app runs config {got.get('config_version')}, "
                         f"this one is {want['config_version']})").strip()
    result.ok = not result.differences
    return result


def _wait_for_end(client, sid: str, wait: float, poll: float, sleep: Callable[[float], None]) -> str:
    """Poll the Calls resource until the call is over; returns its final status.

    Raises ProbeError when it does not end within `wait` seconds, or ends without being answered.
    """
    deadline = time.monotonic() + wait
    status = "queued"
    while time.monotonic() < deadline:
        status = client.calls(sid).fetch().status
        status = getattr(status, "value", status)
        if status in FINAL:
            if status != "completed":
                raise ProbeError(f"the call ended as {status!r}: the hotline did not answer it")
            return status
        sleep(poll)
    raise ProbeError(f"the call {sid} was still {status!r} after {wait:.0f} s")


def _find_record(redis, store: CallStore, token: str, wait: float, poll: float,
                 sleep: Callable[[float], None]) -> dict | None:
    """Return the record of the probe call that took `token` once it is final, or None."""
    deadline = time.monotonic() + wait
    record = None
    while True:
        sid = redis.get(rkeys.probe_call(token))
        if sid:
            store.flush()
            record = store.record(sid if isinstance(sid, str) else sid.decode())
            if record is not None and record.get("outcome") != "in_progress":
                return record
        if time.monotonic() >= deadline:
            return record
        sleep(min(poll, 0.5))
