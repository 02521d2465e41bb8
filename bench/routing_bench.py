"""Routing speed: time per decision (menu walk excluded) and a year of `hotline schedule`.

Run: .venv/bin/python bench/routing_bench.py   (prints figures; no pass/fail)
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import statistics
import time
from pathlib import Path

from ivr.cli import main
from ivr.config import load_config
from routing import decide

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def bench_decisions(count: int = 20_000) -> None:
    config = load_config(EXAMPLES)
    rng = random.Random(7)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    cases = []
    for hotline in config.lines():
        for service in hotline.plan.services:
            cases.append((hotline.plan, service))
    moments = [start + dt.timedelta(minutes=rng.randrange(0, 3 * 366 * 24 * 60)) for _ in range(count)]
    picks = [cases[rng.randrange(len(cases))] for _ in range(count)]
    cold = time.perf_counter()
    for (plan, service), at in zip(picks, moments):
        decide(plan, service, at)
    cold_s = time.perf_counter() - cold
    samples = []
    for (plan, service), at in zip(picks, moments):
        t0 = time.perf_counter()
        decide(plan, service, at)
        samples.append(time.perf_counter() - t0)
    samples.sort()
    print(f"decisions: {count} random moments over 3 years, {len(cases)} services in {len(config.lines())} hotlines")
    print(f"  first pass (day caches cold): {cold_s / count * 1e6:8.1f} us/decision")
    print(f"  warm: p50 {samples[len(samples) // 2] * 1e6:6.1f} us, p99 {samples[int(len(samples) * .99)] * 1e6:6.1f} us, "
          f"mean {statistics.fmean(samples) * 1e6:6.1f} us (includes next_change)")


def bench_schedule_year() -> None:
    for name in ("brondby", "indsatsplan", "orebro"):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            main(["schedule", "--config", str(EXAMPLES / f"{name}.yaml"), "--week", "2026-W01", "--weeks", "52"])
        print(f"hotline schedule, 52 weeks of {name}: {time.perf_counter() - t0:.2f} s ({len(out.getvalue().splitlines())} lines)")


if __name__ == "__main__":
    bench_decisions()
    bench_schedule_year()
