"""Webhook latency while Redis hangs, and how many call records come back afterwards.

Starts a durable throw-away redis-server (append-only file, fsync always) and the Procfile's web
line (gunicorn, 2 workers x 4 threads) on 127.0.0.1 with examples/brondby.yaml and an open Nexus
outage (so every call hears the announcement). Then plays whole signed calls (start, key 1, every
dial step, the status callback; every 4th call also Twilio's Fallback URL) at a fixed rate. After
--freeze-at seconds Redis is SIGSTOPped for --stall seconds, then let go (SIGCONT) or, with --kill,
SIGKILLed and started again. Prints p50/p99/max per webhook for the requests made during the stall
and for all of them, then how many calls' records are complete in Redis and how long that took.
Bounded: stops by itself. No pass/fail.

Run: .venv/bin/python bench/fault_bench.py [--rate 5] [--seconds 40] [--freeze-at 5] [--stall 30] [--kill]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from ivr.calls.events import fold  # noqa: E402
from ivr.config import load_config  # noqa: E402
from ivr.outages.store import OutageStore  # noqa: E402
from tests.support.gunicorn import Gunicorn  # noqa: E402
from tests.support.redis_server import RedisServer, free_port  # noqa: E402
from tests.support.web_burst import TOKEN, Timed, missing_from_record, play_call  # noqa: E402

BRONDBY = ROOT / "examples" / "brondby.yaml"
DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


def faults(server: RedisServer, began: float, freeze_at: float, stall: float, kill: bool) -> None:
    """Hang Redis at `freeze_at` for `stall` seconds, then let it go (or kill and restart it)."""
    time.sleep(max(0.0, began + freeze_at - time.monotonic()))
    server.freeze()
    time.sleep(max(0.0, began + freeze_at + stall - time.monotonic()))
    if kill:
        server.stop(kill=True)
        server.start()
    else:
        server.thaw()


def report(name: str, seconds: list[float]) -> None:
    if not seconds:
        print(f"{name:26} {0:6d} req")
        return
    ms = sorted(s * 1000 for s in seconds)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else ms[0]
    print(f"{name:26} {len(ms):6d} req  p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5.0, help="calls started per second (default 5)")
    parser.add_argument("--seconds", type=float, default=40.0, help="how long to start calls (default 40)")
    parser.add_argument("--freeze-at", type=float, default=5.0, help="seconds into the burst Redis hangs (default 5)")
    parser.add_argument("--stall", type=float, default=30.0, help="seconds Redis stays hung (default 30)")
    parser.add_argument("--kill", action="store_true", help="SIGKILL and restart Redis after the stall")
    args = parser.parse_args()
    hotline = load_config(BRONDBY).lines()[0]
    with RedisServer(extra_args=DURABLE) as server, tempfile.TemporaryDirectory() as tmp:
        plain = redis.Redis.from_url(server.url, decode_responses=True)
        OutageStore(plain).declare(hotline.line, "nexus", {"message": "", "declared_by": "bench"},
                                   dt.datetime.now(dt.timezone.utc))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
        env.update(REDIS_URL=server.url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                   HOTLINE_CONFIG=str(BRONDBY), HOTLINE_SPOOL_DIR=f"{tmp}/spool", HOTLINE_LAST_GOOD_DIR=f"{tmp}/lg")
        web = Gunicorn(env, Path(tmp) / "gunicorn.log", port).start()
        try:
            timed, began = Timed(), time.monotonic()
            fault = threading.Thread(target=faults, args=(server, began, args.freeze_at, args.stall, args.kill))
            fault.start()
            calls = max(1, int(args.rate * args.seconds))
            with ThreadPoolExecutor(max_workers=64) as pool:
                futures = []
                for i in range(calls):
                    time.sleep(max(0.0, began + i / args.rate - time.monotonic()))
                    futures.append(pool.submit(play_call, timed, web.url, hotline.line, "1", i % 4 == 3))
                played = [f.result() for f in futures]
            fault.join()
            back = time.monotonic()
            stall_end = args.freeze_at + args.stall
            how = "SIGKILL + restart" if args.kill else "SIGCONT"
            print(f"gunicorn as in the Procfile (2 workers x 4 threads); {calls} calls at {args.rate:g}/s; "
                  f"Redis hung (SIGSTOP) from {args.freeze_at:g} s to {stall_end:g} s, then {how}")
            during = [s for s in timed.samples if args.freeze_at <= s.at - began < stall_end]
            report("during the stall: all", [s.seconds for s in during])
            for path in sorted({s.path for s in during}):
                report(f"  {path}", [s.seconds for s in during if s.path == path])
            report("whole run: all", [s.seconds for s in timed.samples])
            print(f"non-200 answers: {sum(1 for s in timed.samples if s.status != 200)}; "
                  f"calls that failed: {sum(1 for p in played if p.error)}; "
                  f"over 15 s: {sum(1 for s in timed.samples if s.seconds > 15)}")
            complete, waited = recovered(plain, played, Path(tmp) / "spool")
            print(f"records complete in Redis afterwards: {complete} of {calls} ({waited:.1f} s after the burst)")
        finally:
            web.stop()
            server.thaw()


def recovered(r: redis.Redis, played: list, spool: Path, timeout: float = 60.0) -> tuple[int, float]:
    """Return (calls whose record is complete, seconds waited), waiting up to `timeout` for the spool."""
    began = time.monotonic()
    while True:
        complete = 0
        for p in played:
            try:
                events = [json.loads(raw) for raw in r.lrange(f"hotline:call:{p.sid}:events", 0, -1)]
            except redis.RedisError:
                events = []
            complete += not missing_from_record(p, fold(p.sid, events) if events else None)
        left = list(spool.glob("*")) if spool.is_dir() else []
        if (complete == len(played) and not left) or time.monotonic() - began > timeout:
            return complete, time.monotonic() - began
        time.sleep(0.5)


if __name__ == "__main__":
    main()
