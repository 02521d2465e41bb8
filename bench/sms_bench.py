"""SMS blast throughput: time to enqueue and to drain N recipients at a configured rate.

Starts a throw-away redis-server, the local fake Twilio (tests/support, every request checked
against Twilio's OpenAPI description) and W `hotline worker` processes, then starts one blast
of N recipients and waits until every recipient is sent. Prints the enqueue time, the drain
time, the achieved rate, the most messages the fake saw in any 1-second window ("max in 1 s":
arrival times stamped by the stand-in's request threads, so they include how long those waited
for a CPU), the most sends the limiter counted in any 1-second window ("limiter": each send where the
limiter placed it, its admission or, once settled, where it may have reached Twilio; Redis's
clock), and checks
exactly one message per recipient. Bounded: gives up after --timeout seconds. No pass/fail.

Run: .venv/bin/python bench/sms_bench.py [--recipients 1000] [--rate 100] [--workers 4]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from ivr import keys  # noqa: E402
from ivr.sms.blast import Blast, BlastStore  # noqa: E402
from ivr.sms.jobs import start_blast  # noqa: E402
from tests.sms_helpers import max_in_window, numbers  # noqa: E402
from tests.support.fake_twilio import FakeTwilio  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.rq_workers import WorkerPool, wait_until, worker_env  # noqa: E402


def run(recipients: int, rate: float, workers: int, batch: int, timeout: float) -> dict:
    """Run one blast; returns the measured figures."""
    with RedisServer() as server, FakeTwilio() as fake, tempfile.TemporaryDirectory() as logs:
        r = redis.Redis.from_url(server.url)
        env = worker_env(server.url, fake, HOTLINE_SMS_BATCH=str(batch))
        with WorkerPool(workers, env, Path(logs)) as pool:
            wait_until(lambda: len(r.keys("rq:worker:*")) >= workers, 20, message="workers up")
            blast = Blast(id="bench", body="Nexus er nede siden kl. 09:12. Følg nødproceduren.",
                          sender_from="+4570112230", messaging_service_sid=None, rate=rate,
                          status_callback="https://hotline.example.org/sms/status", outage_id="bench",
                          kind="down", total=recipients)
            to = numbers(recipients)
            t0 = time.monotonic()
            start_blast(r, blast, to)
            enqueued = time.monotonic() - t0
            store = BlastStore(r)
            # Polled every 0.1 s: a tighter loop would compete for the GIL with the stand-in's
            # request threads (in this process) and blur the arrival times it records. Each poll
            # also copies the limiter's log (it holds the last ~1 s: each send where the limiter
            # counts it, on Redis's clock), to show next to the stand-in's arrival times.
            admitted: dict[bytes, float] = {}

            def drained() -> bool:
                admitted.update(r.zrange(keys.sms_sent_log(blast.sender), 0, -1, withscores=True))
                return store.progress("bench")["done"] >= recipients

            wait_until(drained, timeout, interval=0.1,
                       message=lambda: f"drain ({store.progress('bench')})\n{pool.logs()}")
            drained = time.monotonic() - t0
        times = [m["received_at"] for m in fake.messages]
        counts = Counter(m["to"] for m in fake.messages)
        return {
            "recipients": recipients, "rate": rate, "workers": workers, "batch": batch,
            "enqueue_s": enqueued, "drain_s": drained,
            "achieved_per_s": (len(times) - 1) / (max(times) - min(times)) if len(times) > 1 else 0.0,
            "max_in_1s": max_in_window(times),
            "limiter_max_in_1s": max_in_window([us / 1e6 for us in admitted.values()]),
            "exactly_once": set(counts.values()) == {1} and len(counts) == recipients,
            "violations": len(fake.violations),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rate", type=float, action="append", help="messages/s (repeatable; default 10 and 100)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; achieved = (messages - 1) / (last - first "
          f"arrival at the stand-in); goal: >= 97 % of the rate, never more than the rate in any 1 s")
    print(f"{'recipients':>10} {'rate/s':>7} {'workers':>7} {'enqueue':>9} {'drain':>9} {'achieved/s':>10} "
          f"{'max in 1 s':>10} {'limiter':>8} {'exactly once':>12}")
    for rate in args.rate or [10.0, 100.0]:
        f = run(args.recipients, rate, args.workers, args.batch, args.timeout)
        print(f"{f['recipients']:>10} {f['rate']:>7.0f} {f['workers']:>7} {f['enqueue_s'] * 1000:>7.0f}ms "
              f"{f['drain_s']:>8.1f}s {f['achieved_per_s']:>10.1f} {f['max_in_1s']:>10} {f['limiter_max_in_1s']:>8} "
              f"{str(f['exactly_once']):>12}"
              f"  ({f['achieved_per_s'] / f['rate'] * 100:.1f} % of the rate)"
              + (f"  ({f['violations']} spec violations!)" if f["violations"] else ""))


if __name__ == "__main__":
    main()
