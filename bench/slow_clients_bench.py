"""Real calls while slow clients trickle request bodies in: gunicorn alone vs. behind nginx.

Starts a throw-away redis-server, gunicorn exactly as the Procfile's web line (2 workers x 4
threads) and, when installed, nginx with deploy/nginx-hotline.conf in front of it. For each
front end it opens --slow connections that send a 2,000-byte body one byte every 0.5 s, then
plays --calls first webhooks of real signed calls one after another and prints how long each
waited (p50 / max) and what the slow clients got. Bounded by --seconds per front end. No pass/fail.

Run: .venv/bin/python bench/slow_clients_bench.py [--slow 8 --slow 24] [--calls 10] [--seconds 12]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.gunicorn import Gunicorn  # noqa: E402
from tests.support.nginx import Nginx, nginx_binary  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.test_body_limits import BASE_URL, TOKEN, drip, real_call  # noqa: E402


def measure(name: str, port: int, url: str, slow: int, calls: int, seconds: float) -> None:
    results: list = []
    threads = [threading.Thread(target=drip, args=(port, seconds, results)) for _ in range(slow)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    waits = []
    for _ in range(calls):
        try:
            took, _ = real_call(url)
        except Exception as exc:  # noqa: BLE001 - a figure, not a failure
            took = float("nan")
            print(f"  call failed: {exc}")
        waits.append(took)
    for t in threads:
        t.join()
    got = Counter("still reading" if s is None else s for s, _ in results)
    ok = [w for w in waits if w == w]
    print(f"{name:>16} | slow {slow:3d} | calls {len(ok)}/{calls} | p50 {statistics.median(ok) * 1000:8.1f} ms | "
          f"max {max(ok) * 1000:8.1f} ms | slow clients got {dict(got)}" if ok else f"{name}: no call answered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, action="append", help="slow connections (repeatable; default 8, 24)")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, RedisServer() as redis_server:
        tmp = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
        env.update(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE_URL,
                   HOTLINE_SPOOL_DIR=str(tmp / "spool"), HOTLINE_LAST_GOOD_DIR=str(tmp / "last-good"))
        with Gunicorn(env, tmp / "gunicorn.log") as web:
            binary = nginx_binary()
            for slow in args.slow or [8, 24]:
                measure("gunicorn alone", web.port, web.url, slow, args.calls, args.seconds)
                if binary:
                    with Nginx(binary, web.port, tmp / f"nginx-{slow}") as proxy:
                        measure("nginx + gunicorn", proxy.port, proxy.url, slow, args.calls, args.seconds)
            if not binary:
                print("nginx is not installed: only gunicorn alone was measured")


if __name__ == "__main__":
    main()
