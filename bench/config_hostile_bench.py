"""How fast (and in how much memory) hostile config files are refused, next to loading an example.

Run: .venv/bin/python bench/config_hostile_bench.py   (prints figures; no pass/fail)
Each case runs `hotline check` in a child process, so the peak memory is that file's alone.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ivr.config.source import MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent
BRONDBY = (ROOT / "examples" / "brondby.yaml").read_text(encoding="utf-8")
CASES = {
    "brondby.yaml (good)": BRONDBY.encode(),
    "Latin-1 save": BRONDBY.encode("latin-1", errors="replace"),
    "alias bomb (1 KB)": ("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "hotline: *a8\n").encode(),
    "nesting 100,000 deep": ("hotline: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(),
    "just under the size limit": (BRONDBY + "#" * (MAX_FILE_BYTES - len(BRONDBY.encode()) - 10) + "\n").encode(),
}


def main() -> None:
    print(f"{'case':28} {'exit':>4} {'seconds':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in CASES.items():
            path = Path(tmp) / "case.yaml"
            path.write_bytes(data)
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "check", "--config", str(path)], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            code = status >> 8
            print(f"{name:28} {code:>4} {seconds:>8.2f} {usage.ru_maxrss / 1024:>8.0f}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))   # a regression must not eat the machine
    main()
