"""bench/voice_instructions.py refuses a mistaken argument in one line (exit 2) before it looks for
valgrind, and reads callgrind's instruction total."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "voice_instructions.py"
sys.path.insert(0, str(BENCH.parent.parent))

from bench.voice_instructions import totals  # noqa: E402


@pytest.mark.parametrize("args, says", [
    (["--kinds", "voice,nosuch"], "unknown kind(s) nosuch"),
    (["--requests", "0"], "--requests: '0' must be above 0"),
    (["--requests", "many"], "--requests: 'many' is not a whole number"),
    (["--baseline", "/nonexistent/tree"], "not a source tree of the project"),
])
def test_a_mistaken_argument_is_refused_in_one_line(args, says):
    done = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


def test_the_total_is_read_from_callgrinds_output():
    out = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 0\n\nfn=(1) main\n3 5\ntotals: 99439222\n"
    assert totals(out) == 99439222
    assert totals("events: Ir\nsummary: 1234\n") == 1234
    with pytest.raises(ValueError):
        totals("events: Ir\n")
