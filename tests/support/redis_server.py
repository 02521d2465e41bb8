"""A real, throw-away ``redis-server`` on a free loopback port, for tests.

The server runs without persistence in its own temporary directory and its own
process group. It can be stopped and started again on the same port, so tests
can take Redis away in the middle of a call and bring it back.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MISSING_BINARY = (
    "redis-server not found: install the Debian package redis-server "
    "(./dev test does it when run as root)"
)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class RedisServer:
    """One ``redis-server`` process bound to 127.0.0.1.

    The port is chosen on the first ``start()`` and kept for the life of the
    object, so ``stop(); start()`` brings Redis back at the same ``url``.
    """

    host = "127.0.0.1"

    def __init__(self, binary: str = "redis-server", startup_timeout: float = 10.0,
                 extra_args: tuple[str, ...] = ()):
        self.binary = binary
        self.extra_args = tuple(extra_args)  # e.g. ("--appendonly", "yes"): later options win
        self.startup_timeout = startup_timeout
        self._port: int | None = None
        self._proc: subprocess.Popen | None = None
        self._dir: Path | None = None
        self._log = None
        atexit.register(self.close)

    # -- properties -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port; raises RuntimeError before the first start()."""
        if self._port is None:
            raise RuntimeError("RedisServer has not been started yet")
        return self._port

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``; raises RuntimeError before start()."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int:
        """The redis-server process id; raises RuntimeError while it is not running."""
        if not self.running:
            raise RuntimeError("RedisServer is not running")
        return self._proc.pid

    @property
    def running(self) -> bool:
        """True while the redis-server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> "RedisServer":
        """Start redis-server (no-op if running) and wait until it answers PING.

        Returns self. Raises RuntimeError if the binary is missing, the process
        exits early (e.g. the port is taken) or PING fails within the timeout.
        """
        if self.running:
            return self
        binary = shutil.which(self.binary)
        if binary is None:
            raise RuntimeError(MISSING_BINARY)
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="hotline-redis-"))
        first_start = self._port is None
        # A freshly picked port can be grabbed by someone else before Redis
        # binds it; on the first start just pick another one.
        for attempt in range(3 if first_start else 1):
            if first_start:
                self._port = free_port(self.host)
            try:
                self._spawn(binary)
                return self
            except _EarlyExit:
                if attempt == 2 or not first_start:
                    raise RuntimeError(
                        f"redis-server exited during startup on port {self._port}:\n"
                        + self._log_tail()
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, kill: bool = False, timeout: float = 10.0) -> None:
        """Stop the server and wait for it to exit; no-op if not running.

        ``kill=True`` sends SIGKILL (a crash) instead of SIGTERM. Escalates to
        SIGKILL if the process has not exited after ``timeout`` seconds.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(proc, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def freeze(self) -> None:
        """Make the server hang (SIGSTOP): connections are accepted, nothing is answered."""
        if self._proc is not None:
            self._signal(self._proc, signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server go on (SIGCONT); no-op if not running."""
        if self._proc is not None:
            self._signal(self._proc, signal.SIGCONT)

    def close(self) -> None:
        """Stop the server and delete its temporary directory."""
        self.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- commands -------------------------------------------------------------

    def ping(self, timeout: float = 1.0) -> bool:
        """Return True if something on our port answers PING, False on socket errors."""
        try:
            return self.command("PING", timeout=timeout) == b"PONG"
        except OSError:
            return False

    def flushall(self) -> None:
        """Empty every database; raises OSError if Redis is unreachable."""
        reply = self.command("FLUSHALL")
        if reply != b"OK":
            raise RuntimeError(f"FLUSHALL answered {reply!r}")

    def command(self, *args: str, timeout: float = 5.0) -> bytes | int | None:
        """Send one command and return its reply (status/bulk as bytes, integer as int).

        Arrays are not supported. Raises OSError if the server cannot be
        reached and RuntimeError on an error reply.
        """
        parts = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(b"".join(parts))
            reader = sock.makefile("rb")
            line = reader.readline()
            if not line.endswith(b"\r\n"):
                raise ConnectionError("redis closed the connection")
            kind, rest = line[:1], line[1:-2]
            if kind == b"-":
                raise RuntimeError(rest.decode(errors="replace"))
            if kind == b":":
                return int(rest)
            if kind == b"$":
                size = int(rest)
                return None if size < 0 else reader.read(size + 2)[:-2]
            return rest

    def _answers_as_ours(self) -> bool:
        """True if the server on our port is the process we started."""
        try:
            info = self.command("INFO", "server", timeout=0.5)
        except (OSError, RuntimeError):
            return False
        return self._proc is not None and f"process_id:{self._proc.pid}\r\n".encode() in (info or b"")

    # -- internals ------------------------------------------------------------

    def _spawn(self, binary: str) -> None:
        assert self._dir is not None
        self._log = open(self._dir / "redis.log", "ab")
        args = [
            binary,
            "--bind", self.host,
            "--port", str(self._port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--daemonize", "no",
            "--logfile", "",
            *self.extra_args,
        ]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, killed as a whole
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.stop()
                raise _EarlyExit()
            if self._answers_as_ours():  # not just anyone squatting on the port
                return
            time.sleep(0.02)
        self.stop(kill=True)
        raise RuntimeError(
            f"redis-server did not answer PING on port {self._port} within "
            f"{self.startup_timeout:.0f} s:\n" + self._log_tail()
        )

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    def _log_tail(self, lines: int = 20) -> str:
        if self._dir is None:
            return ""
        try:
            text = (self._dir / "redis.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class _EarlyExit(Exception):
    """redis-server exited before answering PING."""
