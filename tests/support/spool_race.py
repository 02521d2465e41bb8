"""Processes for the spool race test: writers append numbered events, a flusher replays them.

Run through multiprocessing ("spawn"), so each is a real process with its own threads.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from ivr.calls.spool import Spool


def write_events(directory: str, writer: int, threads: int, per_thread: int, calls: int) -> None:
    """Append `threads` x `per_thread` events, spread over `calls` CallSids, from `threads` threads."""
    spool = Spool(directory)

    def run(thread: int) -> None:
        for n in range(per_thread):
            sid = f"CA{(writer * 7 + thread * 3 + n) % calls:04d}"
            spool.append({"id": f"w{writer}t{thread}n{n}", "sid": sid})

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def flush_until(directory: str, stop_file: str, sink: str) -> None:
    """Flush the spool in a loop until `stop_file` exists; write the replayed ids to `sink`."""
    spool, seen = Spool(directory), []
    deadline = time.monotonic() + 120
    while not Path(stop_file).exists() and time.monotonic() < deadline:
        spool.flush(lambda ev: seen.append(ev["id"]))
    Path(sink).write_text(json.dumps(seen))
