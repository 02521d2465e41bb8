"""The web process as production runs it: the Procfile's `web:` line (gunicorn), on a loopback port."""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ivr.callsim import sign
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_BASE_URL = "https://hotline.example.test"
AUTH_TOKEN = "web-process-test-token"


def procfile_web_argv(port: int) -> list[str]:
    """Return the Procfile's web command with $PORT filled in and bound to 127.0.0.1 only."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    command = line.removeprefix("web:").strip()
    command = command.replace("0.0.0.0:$PORT", f"127.0.0.1:{port}").replace("${WEB_CONCURRENCY:-2}", "2")
    argv = shlex.split(command)
    assert argv[0] == "gunicorn" and "$" not in command, command
    return [str(Path(sys.executable).with_name("gunicorn")), *argv[1:]]


class WebProcess:
    """A gunicorn master (and its workers) started from the Procfile; stopped on exit."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "PUBLIC_BASE_URL": PUBLIC_BASE_URL, **env}
        self.env.pop("REDIS_URL", None)
        self.log = log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> WebProcess:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(procfile_web_argv(self.port), cwd=ROOT, env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        self.wait_for(lambda: self.health() is not None, 60, "gunicorn did not answer /healthz")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def hup(self) -> None:
        """Ask the master to reload: new workers load the config files again."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def health(self) -> dict | None:
        """Return /healthz as a dict, or None when the port does not answer."""
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError):
            return None

    def signed_post(self, path: str, params: dict) -> tuple[int, str]:
        """POST `params` to `path` signed as Twilio would for PUBLIC_BASE_URL; return (status, body)."""
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST", headers={
            "X-Twilio-Signature": sign(AUTH_TOKEN, PUBLIC_BASE_URL + path, params),
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def wait_for(self, condition, seconds: float, what: str) -> None:
        """Poll `condition` until true; raise AssertionError with the log tail after `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{what}; gunicorn log:\n{self.log.read_text(errors='replace')[-4000:]}")
