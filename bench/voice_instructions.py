"""Instructions per webhook, counted by valgrind: a measure of the app's own work that this
container's noise does not move.

bench/voice_bench.py measures what matters (throughput next to the static floor under gunicorn),
but this machine's speed drifts so much between seconds that a change of a few percent hides in
it. Here each webhook kind runs in-process (the app's WSGI callable, no HTTP server; the same
redis-server, signature check on, the write-behind's flusher thread included) under valgrind's
callgrind, which counts only the instructions run between the start and the end of the measured
requests: the same code gives the same count to a fraction of a percent, run after run. The
static-TwiML app (bench/static_twiml.py) is counted the same way, and `--baseline` counts another
source tree of the project (e.g. the previous landing, exported with git archive) beside it.

What it does not count: the kernel's work (system calls: the journal's write, the log line, the
socket to Redis), redis-server, gunicorn, and the waits and thread switches of a loaded server.
Those are why voice_bench's ratios are lower than the ratios of these counts. Use it to see what
a change to the app's code costs or saves; use voice_bench for the goals.

Needs valgrind (Debian package `valgrind`). Each kind takes about 10 s.
Run: .venv/bin/python bench/voice_instructions.py [--kinds voice,menu-service,...] [--requests 300]
[--baseline OTHER_SOURCE_TREE]
"""
from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM = 100   # requests before the counted ones (caches, the first refresh of the outage status)


def totals(callgrind_out: str) -> int:
    """Return the instruction count of a callgrind output file's text (its `totals:` line, else its
    `summary:` line); raises ValueError when it has neither."""
    found = re.search(r"^totals:\s*(\d+)", callgrind_out, re.M) or re.search(r"^summary:\s*(\d+)", callgrind_out, re.M)
    if found is None:
        raise ValueError("no instruction total in the callgrind output")
    return int(found.group(1))


def environ(path: str, body: str, signature: str, sock: socket.socket) -> dict:
    """Return the WSGI environ of a signed webhook post, as gunicorn gives it (its socket too)."""
    path, _, query = path.partition("?")
    data = body.encode()
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(data)), "HTTP_X_TWILIO_SIGNATURE": signature, "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "gunicorn.socket": sock}


def _answer_all(app, environs: list[dict]) -> None:
    def start_response(status, headers, exc_info=None):
        return None
    for env in environs:
        out = app(env, start_response)
        b"".join(out)
        if hasattr(out, "close"):
            out.close()


def _callgrind(on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   capture_output=True, check=False)


def count_one(kind_name: str, requests: int) -> None:
    """Run inside valgrind: answer WARM + `requests` webhooks of one kind ("static": the static
    app answering /voice posts), with callgrind counting only the last `requests`."""
    from bench.voice_bench import EVENING, TOKEN, kinds, prepare_decisions, signed
    from ivr.callsim import new_sid
    from ivr.config.load import load_config
    from tests.support.redis_server import RedisServer

    line = load_config(None).lines()[0].line
    all_kinds = {k.name: k for k in kinds(line, int(EVENING.timestamp()))}
    kind = all_kinds["voice" if kind_name == "static" else kind_name]
    base = "http://127.0.0.1"
    sock = socket.socketpair()[0]
    with RedisServer() as redis_server, tempfile.TemporaryDirectory() as tmp:
        store = None
        if kind_name == "static":
            from bench.static_twiml import app
        else:
            from ivr.app import create_app
            app = create_app(None, redis_url=redis_server.url, auth_token=TOKEN, public_base_url=base, spool_dir=tmp)
            store = app.extensions["hotline"].store
        sids = [new_sid() for _ in range(WARM + requests)]
        if kind.prepare == "decision":
            prepare_decisions(redis_server.url, sids, line)
        environs = [environ(*signed(kind, sid, base), sock) for sid in sids]
        sys.stderr = open(os.devnull, "w")   # the webhook log lines
        _answer_all(app.wsgi_app, environs[:WARM])
        if store is not None:
            store.settle()
        time.sleep(0.2)
        _callgrind(True)
        _answer_all(app.wsgi_app, environs[WARM:])
        if store is not None:
            store.settle()   # the flusher's writes of the counted requests' events are counted too
        _callgrind(False)


def measure(kind_name: str, requests: int, tree: Path) -> int:
    """Return the instructions per request of one kind run from source tree `tree`; raises
    RuntimeError when the run fails."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(tree)}
        for name in ("HOTLINE_CONFIG", "HOTLINE_INSECURE_NO_SIGNATURE"):
            env.pop(name, None)
        done = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                               sys.executable, str(Path(__file__).resolve()), "--one", kind_name,
                               "--root", str(tree), "--requests", str(requests)],
                              cwd=tree, env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"{kind_name}: valgrind run failed: {done.stderr.strip().splitlines()[-3:]}")
        return round(totals(out.read_text(errors="replace")) / requests)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")
    parser.add_argument("--requests", type=_positive_int, default=300, help="counted requests per kind (default 300)")
    parser.add_argument("--baseline", type=Path, help="another source tree of the project, counted beside this one")
    parser.add_argument("--one", help=argparse.SUPPRESS)   # inside valgrind: run one kind ...
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)   # ... of this tree
    args = parser.parse_args()
    sys.path.insert(0, str(args.root if args.one else ROOT))
    if args.one:
        count_one(args.one, args.requests)
        return
    from bench.voice_bench import EVENING, kinds
    from ivr.config.load import load_config

    known = [k.name for k in kinds(load_config(None).lines()[0].line, int(EVENING.timestamp()))]
    names = [k.strip() for k in args.kinds.split(",") if k.strip()] or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if args.baseline and not (args.baseline / "ivr" / "app.py").is_file():
        parser.error(f"--baseline {args.baseline}: not a source tree of the project (no ivr/app.py)")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("voice_instructions: valgrind is not installed (Debian: apt-get install valgrind)")
    static = measure("static", args.requests, ROOT)
    print(f"instructions per request in-process (valgrind callgrind, {args.requests} requests per kind "
          f"after {WARM}); ratio: the static app's count over the kind's")
    print(f"{'kind':16} {'instructions':>12} {'ratio':>6}" + (f" {'baseline':>12} {'ratio':>6} {'change':>7}" if args.baseline else ""))
    print(f"{'static':16} {static:12,} {1:6.2f}")
    for name in names:
        count = measure(name, args.requests, ROOT)
        row = f"{name:16} {count:12,} {static / count:6.2f}"
        if args.baseline:
            before = measure(name, args.requests, args.baseline.resolve())
            row += f" {before:12,} {static / before:6.2f} {100 * (count - before) / before:+6.1f}%"
        print(row, flush=True)


if __name__ == "__main__":
    main()
