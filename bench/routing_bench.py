"""Routing speed: time per decision (menu walk excluded) and a year of `hotline schedule`.

Run: .venv/bin/python bench/routing_bench.py   (prints figures; no pass/fail)
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import random
import statistics
import time
from pathlib import Path

from ivr.cli import main
from ivr.config import load_config
from routing import decide
from routing.day_routes import CACHE_DAYS

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
    samples, best = [], [float("inf")] * count
    for rep in range(3):
        for i, ((plan, service), at) in enumerate(zip(picks, moments)):
            t0 = time.perf_counter()
            decide(plan, service, at)
            took = time.perf_counter() - t0
            best[i] = min(best[i], took)
            if rep == 0:
                samples.append(took)
    print(f"decisions: {count} random moments over 3 years, {len(cases)} services in {len(config.lines())} hotlines"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  first pass (day caches cold): {cold_s / count * 1e6:8.1f} us/decision")
    print(f"  warm, one try each:    {_figures(samples)} (includes next_change)")
    print(f"  warm, best of 3 tries: {_figures(best)} (the same decisions; preemption by other processes filtered out)")
    tables = [table for plan, service in cases for table in plan.services[service]._days.values()]
    print(f"  day tables held: {len(tables)} ({sum(len(t.bounds) for t in tables)} stretches), at most"
          f" {CACHE_DAYS} per service")


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (f"p50 {ordered[len(ordered) // 2] * 1e6:6.1f} us, p99 {ordered[int(len(ordered) * .99)] * 1e6:6.1f} us, "
            f"mean {statistics.fmean(ordered) * 1e6:6.1f} us")


def bench_schedule_year() -> None:
    for name in ("brondby", "indsatsplan", "orebro"):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            main(["schedule", "--config", str(EXAMPLES / f"{name}.yaml"), "--week", "2026-W01", "--weeks", "52"])
        lines = len(out.getvalue().splitlines())
        print(f"hotline schedule, 52 weeks of {name}: {time.perf_counter() - t0:.2f} s ({lines} lines)")


if __name__ == "__main__":
    bench_decisions()
    bench_schedule_year()
