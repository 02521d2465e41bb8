"""The web app under gunicorn, started as the Procfile starts it, for tests on real processes."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def procfile_web_args(port: int) -> list[str]:
    """Return the Procfile's web: command for `port` (the same flags, this venv's gunicorn)."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    command = line.split(":", 1)[1].replace("$PORT", str(port)).replace("${WEB_CONCURRENCY:-2}", "2")
    args = shlex.split(command)
    args[0] = str(Path(sys.executable).with_name("gunicorn"))
    return [a.replace("0.0.0.0", "127.0.0.1") for a in args]


class Gunicorn:
    """`gunicorn 'ivr:create_app()'` on a free loopback port; `url` is its base URL."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PORT": str(self.port), "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or self.url}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(procfile_web_args(self.port), env=self.env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.logs())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz in 30 s:\n" + self.logs())

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def env_without(prefixes: tuple[str, ...]) -> dict[str, str]:
    """Return this process's environment without variables starting with `prefixes`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
