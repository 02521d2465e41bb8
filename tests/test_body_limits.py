"""Oversized and slow request bodies against real processes: gunicorn as the Procfile starts it,
alone and behind nginx with deploy/nginx-hotline.conf."""
from __future__ import annotations

import os
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr.callsim import CallSim, path_of
from ivr.cli.call import http_post
from ivr.config.load import load_config
from tests.support.gunicorn import Gunicorn
from tests.support.nginx import Nginx, nginx_binary

TOKEN = "body-limit-token-0123456789"
BASE_URL = "https://hotline.example.org"
MB = 1024 * 1024
BODY_SECONDS = 2  # the app's deadline for a body under gunicorn (HOTLINE_BODY_SECONDS)


@pytest.fixture(scope="module")
def web(redis_server, tmp_path_factory):
    redis_server.start()
    tmp = tmp_path_factory.mktemp("web")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE_URL,
               HOTLINE_SPOOL_DIR=str(tmp / "spool"), HOTLINE_LAST_GOOD_DIR=str(tmp / "last-good"),
               HOTLINE_BODY_SECONDS=str(BODY_SECONDS), WEB_CONCURRENCY="2")
    with Gunicorn(env, tmp / "gunicorn.log") as server:
        yield server


@pytest.fixture(scope="module")
def proxy(web, tmp_path_factory):
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed and could not be (./dev test installs Debian's nginx as root)")
    with Nginx(binary, web.port, tmp_path_factory.mktemp("nginx")) as server:
        yield server


def real_call(server_url: str) -> tuple[float, CallSim]:
    """Ring the default hotline through `server_url`; return (seconds the first answer took, the call)."""
    line = load_config(None).lines()[0].line

    def post(url, params, headers):
        return http_post(server_url + path_of(url), params, headers)

    call = CallSim(post, line, "+4534412350", TOKEN, base_url=BASE_URL)
    started = time.monotonic()
    call.start()
    return time.monotonic() - started, call


def head(port: int, length: int | None = None, chunked: bool = False) -> bytes:
    lines = ["POST /voice HTTP/1.1", f"Host: 127.0.0.1:{port}", "X-Twilio-Signature: bm90LWEtc2lnbmF0dXJl",
             "Content-Type: application/x-www-form-urlencoded"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(sock: socket.socket, seconds: float) -> int | None:
    """Return the HTTP status the server sent within `seconds`, None when it sent nothing."""
    sock.settimeout(seconds)
    try:
        first = sock.recv(64)
    except (TimeoutError, OSError):
        return None
    parts = first.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_a_declared_huge_body_gets_413_before_it_is_sent(web):
    with socket.create_connection(("127.0.0.1", web.port)) as sock:
        sock.sendall(head(web.port, 100 * MB))
        assert status_of(sock, 10) == 413


def test_a_chunked_body_past_the_cap_gets_413(web):
    with socket.create_connection(("127.0.0.1", web.port)) as sock:
        sock.sendall(head(web.port, chunked=True))
        chunk = b"x" * 16384
        try:
            for _ in range(8):   # 128 kB, twice the cap
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass   # refused mid-way
        assert status_of(sock, 10) == 413


def test_eight_100_mb_posts_leave_the_workers_small_and_calls_answered(web):
    def flood() -> None:
        with socket.create_connection(("127.0.0.1", web.port)) as sock:
            sock.settimeout(10)
            try:
                sock.sendall(head(web.port, 100 * MB))
                block = b"x" * MB
                for _ in range(100):
                    sock.sendall(block)
            except OSError:
                pass   # the server stopped reading and closed: what we want

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: flood(), range(8)))
    took, call = real_call(web.url)
    assert call.turn.kind == "gather"
    peaks = [peak_rss_mb(pid) for pid in web.worker_pids()]
    assert peaks and max(peaks) < 250, f"worker peak RSS {peaks} MB"


def drip(port: int, seconds: float, results: list, length: int = 2000) -> None:
    """Send headers and then one byte of a `length`-byte body every 0.5 s, for up to `seconds`;
    append (status or None, seconds until the answer) to `results`."""
    started = time.monotonic()
    status = None
    with socket.create_connection(("127.0.0.1", port)) as sock:
        try:
            sock.sendall(head(port, length))
            while time.monotonic() - started < seconds:
                readable, _, _ = select.select([sock], [], [], 0.5)
                if readable:
                    status = status_of(sock, 1)
                    break
                sock.sendall(b"x")
        except OSError:
            status = status if status is not None else -1
    results.append((status, time.monotonic() - started))


def test_slow_bodies_are_cut_and_a_real_call_is_still_answered(web):
    results: list = []
    slow = [threading.Thread(target=drip, args=(web.port, 40, results)) for _ in range(8)]  # 2 workers x 4 threads
    for t in slow:
        t.start()
    time.sleep(0.5)
    took, call = real_call(web.url)
    for t in slow:
        t.join()
    assert call.turn.kind == "gather"
    assert took < BODY_SECONDS + 8, f"a real call waited {took:.1f} s behind slow bodies"
    assert sorted(status for status, _ in results) == [408] * 8
    assert max(seconds for _, seconds in results) < BODY_SECONDS + 10


def test_behind_nginx_slow_and_huge_bodies_never_reach_gunicorn(proxy, web):
    results: list = []
    slow = [threading.Thread(target=drip, args=(proxy.port, 8, results)) for _ in range(24)]
    for t in slow:
        t.start()
    time.sleep(0.5)
    waits = []
    for _ in range(5):
        took, call = real_call(proxy.url)
        assert call.turn.kind == "gather"
        waits.append(took)
    for t in slow:
        t.join()
    assert max(waits) < 3, f"real calls through nginx took {waits}"
    assert all(status is None for status, _ in results)   # nginx is still patiently reading them
    with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
        sock.sendall(head(proxy.port, 100 * MB))
        assert status_of(sock, 10) == 413
