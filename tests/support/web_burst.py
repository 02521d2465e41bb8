"""The web app as production runs it, and bursts of signed calls against it (fault test, bench).

`start_web()` runs the Procfile's `web:` line itself (gunicorn, 2 workers x 4 threads) with $PORT
a free port and the bind address narrowed to 127.0.0.1. `play_call()` walks one call the way
Twilio would (start, a key, every dial step to its end, the status callback) and notes every
webhook's time; `expected_record()` says what the call log must hold for it afterwards.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ivr.callsim import CallError, CallSim, parse
from ivr.cli.call import http_post

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "burst-token-0123456789abcdef"
CALLER = "+4534412350"


def procfile_web_line(port: int) -> list[str]:
    """Return the Procfile's web command for `port`, bound to 127.0.0.1 (loopback only)."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    command = line.split(":", 1)[1].strip()
    command = command.replace("${WEB_CONCURRENCY:-2}", "2").replace("$PORT", str(port))
    return shlex.split(command.replace("0.0.0.0:", "127.0.0.1:"))


@dataclass
class Web:
    """A running gunicorn (its process group) and its base URL."""

    proc: subprocess.Popen
    base: str
    log: Path

    def stop(self) -> None:
        """Stop gunicorn and its workers (TERM, then KILL after 15 s)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def start_web(port: int, env: dict, log: Path, timeout: float = 60.0) -> Web:
    """Start the Procfile's web line on 127.0.0.1:`port`; returns once /healthz answers.

    Raises RuntimeError (with the log's tail) when it does not come up within `timeout` seconds.
    """
    bin_dir = str(Path(sys.executable).parent)
    full_env = {**env, "PORT": str(port), "PATH": bin_dir + os.pathsep + env.get("PATH", os.environ.get("PATH", "")),
                "PYTHONPATH": str(ROOT)}
    out = open(log, "ab")
    proc = subprocess.Popen(procfile_web_line(port), cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return Web(proc, base, log)
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    Web(proc, base, log).stop()
    raise RuntimeError("gunicorn did not come up:\n" + log.read_text(errors="replace")[-3000:])


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
