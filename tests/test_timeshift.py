"""The clock mover behind `./dev test-at`: every wall-clock reading moves, monotonic clocks do not."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SHIFTER = Path(__file__).resolve().parent / "support" / "timeshift.py"

PROBE = """
import runpy, sys, json, time
runpy.run_path(sys.argv[1])
import datetime as dt
from datetime import datetime, date
aware = dt.datetime.now(dt.timezone.utc)
parsed = datetime.fromisoformat("2026-12-24T22:00+01:00")
print(json.dumps({
    "time": time.time(), "time_ns": time.time_ns(), "now": aware.timestamp(),
    "utcnow": datetime.utcnow().replace(tzinfo=dt.timezone.utc).timestamp(),
    "today": date.today().isoformat(), "is_datetime": isinstance(aware, datetime),
    "parsed_is_datetime": isinstance(parsed, dt.datetime), "monotonic": time.monotonic(),
}))
"""


def probe(offset: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_TIME_OFFSET"}
    if offset is not None:
        env["HOTLINE_TIME_OFFSET"] = offset
    out = subprocess.run([sys.executable, "-c", PROBE, str(SHIFTER)], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_every_wall_clock_reading_moves_by_the_offset():
    ten_days = 10 * 86400
    before, moved = probe(None), probe(str(ten_days))
    for name in ("time", "now", "utcnow"):
        assert ten_days - 60 < moved[name] - before[name] < ten_days + 60, name
    assert ten_days - 60 < (moved["time_ns"] - before["time_ns"]) / 1e9 < ten_days + 60
    assert moved["today"] > before["today"]
    assert moved["is_datetime"] and moved["parsed_is_datetime"]
    assert abs(moved["monotonic"] - before["monotonic"]) < 60


def test_a_negative_offset_is_refused():
    env = {**os.environ, "HOTLINE_TIME_OFFSET": "-5"}
    run = subprocess.run([sys.executable, "-c", PROBE, str(SHIFTER)], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "must not be negative" in run.stderr
