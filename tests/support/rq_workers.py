"""Real `hotline worker` processes for tests: started against the test Redis and a FakeTwilio.

`WorkerPool.kill(i)` SIGKILLs a worker *and* the work-horse it forked (RQ puts the horse in
its own process group, so killing only the parent would leave the horse finishing the job):
that is what a crashed machine looks like.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_env(redis_url: str, fake, **extra: str) -> dict[str, str]:
    """Return the environment for a worker talking to `redis_url` and the FakeTwilio `fake`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "HOTLINE_SMS_"))}
    env.update({
        "REDIS_URL": redis_url, "TWILIO_API_BASE_URL": fake.base_url,
        "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": fake.auth_token,
        "PYTHONPATH": str(ROOT), "HOTLINE_TWILIO_TIMEOUT": "2",
        "HOTLINE_SMS_DOUBT_SETTLE_SECONDS": "4",  # a request that got no answer: look again after 4 s
    })
    env.update(extra)
    return env


def children(pid: int) -> list[int]:
    """Return the pids whose parent is `pid` (Linux /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


class WorkerPool:
    """`n` worker subprocesses; use as a context manager (stops them all on exit)."""

    def __init__(self, n: int, env: dict[str, str], log_dir: Path, queues: tuple[str, ...] = ("sms", "default")):
        self.env, self.log_dir, self.queues = env, log_dir, queues
        self.procs: list[subprocess.Popen] = []
        for _ in range(n):
            self.add()

    def add(self) -> subprocess.Popen:
        """Start one more worker; returns its Popen."""
        i = len(self.procs)
        log = open(self.log_dir / f"worker-{i}.log", "wb")
        args = [sys.executable, "-m", "ivr.cli", "worker", "--name", f"test-{os.getpid()}-{i}-{time.time_ns()}",
                "--log-level", "INFO"]
        for q in self.queues:
            args += ["--queue", q]
        proc = subprocess.Popen(args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def kill(self, i: int) -> list[int]:
        """SIGKILL worker `i` and its work-horse(s); returns the pids killed."""
        proc = self.procs[i]
        pids = children(proc.pid) + [proc.pid]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(5)
        return pids

    def scheduler_holder(self) -> int | None:
        """Return the index of the worker whose log says it took RQ's scheduler lock, if any."""
        for i in range(len(self.procs)):
            path = self.log_dir / f"worker-{i}.log"
            if path.exists() and "Acquired scheduler lock" in path.read_text(errors="replace"):
                return i
        return None

    def full_log(self, i: int) -> str:
        """Return worker `i`'s whole log."""
        return (self.log_dir / f"worker-{i}.log").read_text(errors="replace")

    def logs(self) -> str:
        """Return every worker's log, for assertion messages."""
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                for pid in children(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.kill()
                proc.wait(5)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition") -> None:
    """Poll `predicate` until true; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message() if callable(message) else message}")
