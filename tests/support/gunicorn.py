"""The web app as production runs it, for tests and benches on real processes: the Procfile's `web:`
line (gunicorn) run by bash with $PORT set, on a free loopback port, in its own process group."""
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
from tests.support.rq_workers import children

ROOT = Path(__file__).resolve().parents[2]


def procfile_line(name: str) -> str:
    """Return the command of the Procfile's `name:` line; raises KeyError when there is none."""
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(name)


def procfile_web_command() -> str:
    """Return the Procfile's web command with its bind address narrowed to 127.0.0.1 (loopback only)."""
    command = procfile_line("web")
    assert "0.0.0.0:$PORT" in command, command
    return command.replace("0.0.0.0:$PORT", "127.0.0.1:$PORT")


class Gunicorn:
    """The Procfile's web line with `env` (complete: nothing else is inherited) on `port` (a free one
    by default); a context manager, or start() and stop().

    `workers` sets WEB_CONCURRENCY (the Procfile's default, 2, unless told), `config` HOTLINE_CONFIG, `args` go after the Procfile's own
    options. `url` is where it answers; `log()` is what gunicorn and the app wrote.
    """

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None, *,
                 workers: int = 2, config: Path | None = None, args: tuple[str, ...] = (),
                 wait: float = 60.0):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.env = {**env, "PORT": str(self.port), "PYTHONPATH": str(ROOT),
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", os.defpath)}
        self.env["WEB_CONCURRENCY"] = str(workers)
        if config is not None:
            self.env["HOTLINE_CONFIG"] = str(config)
        self.args, self.wait = tuple(args), wait
        self.proc: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        """Start gunicorn and return once /healthz answers 200; raises RuntimeError (with the log's
        tail, gunicorn stopped) when it exits or does not answer within `wait` seconds."""
        with self.log_path.open("ab") as out:
            argv = ["bash", "-c", f'exec {procfile_web_command()} "$@"', "gunicorn", *self.args]
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.wait
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {self.wait:.0f} s:\n" + self.log(6000))

    def stop(self) -> None:
        """Stop gunicorn as a process manager does (TERM to the master); KILL its process group
        when the master is still there after 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def hup(self) -> None:
        """Ask the master to reload: new workers load the app (and its config files) again."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def worker_pids(self) -> list[int]:
        """Return the pids of gunicorn's worker processes."""
        assert self.proc is not None
        return children(self.proc.pid)

    def log(self, tail: int | None = None) -> str:
        """Return what gunicorn and the app wrote (the last `tail` characters only, when given)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-tail:] if tail else text

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
