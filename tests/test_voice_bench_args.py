"""bench/voice_bench.py refuses a mistaken argument with a one-line error (exit 2) before it starts
anything: an unknown kind used to measure nothing and print "goals met", and a zero count of
rounds or a missing baseline tree ended in a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "voice_bench.py"


@pytest.mark.parametrize("args, says", [
    (["--kinds", "voice,nosuch"], "unknown kind(s) nosuch"),
    (["--rounds", "0"], "--rounds: '0' must be above 0"),
    (["--seconds", "x"], "--seconds: 'x' is not a number"),
    (["--requests", "-5"], "--requests: '-5' must be above 0"),
    (["--baseline", "/nonexistent/tree"], "not a source tree of the project"),
])
def test_a_mistaken_argument_is_refused_in_one_line(args, says):
    done = subprocess.run([sys.executable, str(BENCH), *args, "--no-profile"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert "goals met" not in done.stdout
