"""The Procfile's `web:` line as a real process (gunicorn), for tests that need several workers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def procfile_web_line() -> str:
    """Return the command of the Procfile's `web:` line."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("Procfile has no web: line")


class ProcfileWeb:
    """Runs the Procfile's web line under bash with PORT and `env`; a context manager.

    `url` is where it answers; `log()` is what gunicorn and the app wrote (stdout and stderr).
    """

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        bindir = str(Path(sys.executable).parent)
        self.env = {**os.environ, **env, "PORT": str(self.port), "WEB_CONCURRENCY": str(workers),
                    "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ProcfileWeb:
        out = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["bash", "-c", "exec " + procfile_web_line()], cwd=ROOT, env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
                return self
            except (OSError, urllib.error.URLError):
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise AssertionError("gunicorn did not start:\n" + self.log())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
