"""Voice webhook latency under gunicorn on loopback, next to a static-TwiML endpoint.

Starts a throw-away redis-server and two gunicorn servers with the Procfile's settings
(2 workers x 4 threads): the hotline app (signature check on, Redis call log) and
bench/static_twiml.py. Then plays whole signed calls (menu -> screened step declined -> next step
unanswered -> exhausted dial -> status callback) at a fixed rate for a fixed time, and sends the
same number of requests per second to the static endpoint. Prints p50/p99 and throughput.
Bounded: stops by itself after --seconds (plus draining). No pass/fail.

Run: .venv/bin/python bench/voice_latency_bench.py [--rate CALLS_PER_S] [--seconds S]
(Throughput per webhook kind next to the static floor, with a profile: bench/voice_bench.py.)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.voice_bench import answering  # noqa: E402
from ivr.callsim import CallSim  # noqa: E402
from ivr.cli.call import http_post  # noqa: E402
from tests.support.redis_server import RedisServer, free_port  # noqa: E402

TOKEN = "bench-token-0123456789"
GUNICORN_ARGS = ["--workers", "2", "--threads", "4", "--timeout", "12", "--log-level", "warning"]


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    """Start gunicorn for `app` on 127.0.0.1:`port` and wait until it answers."""
    cmd = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", *GUNICORN_ARGS]
    return answering(subprocess.Popen(cmd, cwd=ROOT, env=env), app, port, 200)


class Timed:
    """A post function that records (path, seconds, status) for every request."""

    def __init__(self):
        self.samples: list[tuple[str, float, int]] = []
        self.lock = threading.Lock()

    def __call__(self, url: str, params: dict, headers: dict) -> tuple[int, str]:
        t0 = time.perf_counter()
        status, body = http_post(url, params, headers)
        took = time.perf_counter() - t0
        with self.lock:
            self.samples.append((url.split("?")[0].split("127.0.0.1", 1)[-1].split("/", 1)[-1], took, status))
        return status, body


def one_call(post: Timed, base: str, line: str) -> None:
    sim = CallSim(post, line, "+4534412350", TOKEN, base_url=base)
    sim.start()
    sim.press("2")                 # network: IT contacts (screened) outside office hours
    while sim.turn.kind == "dial":
        screened = any(url for _, url in sim.turn.numbers)
        sim.ring("decline" if screened else "no-answer")
    sim.hang_up()


def paced(total: int, rate: float, job) -> float:
    """Start `total` jobs at `rate` per second on a thread pool; returns the wall time in seconds."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(job)
    return time.perf_counter() - started


def report(name: str, samples: list[tuple[str, float, int]], wall: float) -> None:
    ms = sorted(s[1] * 1000 for s in samples)
    bad = sum(1 for s in samples if s[2] != 200)
    q = statistics.quantiles(ms, n=100)
    print(f"{name:28} {len(ms):6d} req  p50 {statistics.median(ms):6.2f} ms  p99 {q[98]:6.2f} ms  "
          f"{len(ms) / wall:7.1f} req/s  non-200: {bad}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="calls started per second (default 10)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to start calls (default 10)")
    args = parser.parse_args()
    app_port, static_port = free_port(), free_port()
    base = f"http://127.0.0.1:{app_port}"
    with RedisServer() as redis_server, tempfile.TemporaryDirectory() as spool:
        env = {**os.environ, "REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": base,
               "HOTLINE_SPOOL_DIR": spool, "PYTHONPATH": str(ROOT)}
        env.pop("HOTLINE_CONFIG", None)
        env.pop("HOTLINE_INSECURE_NO_SIGNATURE", None)
        app = gunicorn("ivr:create_app()", app_port, env)
        static = gunicorn("bench.static_twiml:app", static_port, env)
        try:
            from ivr.config.load import load_config

            line = load_config(None).lines()[0].line
            timed = Timed()
            calls = max(1, int(args.rate * args.seconds))
            wall = paced(calls, args.rate, lambda: one_call(timed, base, line))
            per_call = len(timed.samples) / calls
            print(f"gunicorn {' '.join(GUNICORN_ARGS)}; {calls} calls at {args.rate:g}/s, "
                  f"{per_call:.1f} signed webhooks per call, Redis call log on")
            report("hotline: all webhooks", timed.samples, wall)
            for path in sorted({s[0] for s in timed.samples}):
                report(f"  /{path}", [s for s in timed.samples if s[0] == path], wall)
            static_timed = Timed()
            url = f"http://127.0.0.1:{static_port}/voice"
            total = len(timed.samples)
            wall_static = paced(total, total / wall, lambda: static_timed(url, {"CallSid": "CA1"}, {}))
            report("static TwiML (same rate)", static_timed.samples, wall_static)
        finally:
            for proc in (app, static):
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
