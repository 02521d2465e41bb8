"""nginx with deploy/nginx-hotline.conf, for tests and benches that put it in front of gunicorn
(tests/support/gunicorn.py)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_SNIPPET = ROOT / "deploy" / "nginx-hotline.conf"


def nginx_binary() -> str | None:
    """Return the nginx executable (Debian puts it in /usr/sbin), or None when not installed."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


class Nginx:
    """nginx with deploy/nginx-hotline.conf (its ports replaced) in front of `upstream_port`."""

    def __init__(self, binary: str, upstream_port: int, workdir: Path):
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        snippet = NGINX_SNIPPET.read_text(encoding="utf-8")
        snippet = snippet.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
        snippet = snippet.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        (workdir / "hotline.conf").write_text(snippet, encoding="utf-8")
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(f"    {kind}_temp_path {workdir}/{kind}-temp;"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (workdir / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log info;\n"
            f"events {{ worker_connections 512; }}\n"
            f"http {{\n    access_log {workdir}/access.log;\n{temp}\n    include {workdir}/hotline.conf;\n}}\n",
            encoding="utf-8")
        self.workdir = workdir
        self.proc = subprocess.Popen(
            [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(workdir / "nginx.conf"),
             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=open(workdir / "stderr.log", "wb"),
            start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Nginx:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: " + (self.workdir / "stderr.log").read_text(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise TimeoutError("nginx did not listen within 15 s")

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
