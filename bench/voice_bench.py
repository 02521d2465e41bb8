"""Voice webhook throughput next to a static-TwiML floor, per webhook kind, and where the time goes.

Starts a throw-away redis-server and two gunicorn servers with the Procfile's `web:` line (same
workers, threads and access log): the hotline app (signature check on, Redis call log) and
bench/static_twiml.py. For each webhook kind of a call it prepares distinct signed requests (a new
CallSid each, the call's earlier state already in Redis where the webhook reads it), then runs wrk
(16 connections) against the static app and the hotline in turn, `--rounds` times interleaved, and
prints req/s of both (medians) and their ratio: the median of the rounds' own ratios, each the
hotline's run over the static run right next to it (which goes first alternates from round to round).
This machine's speed drifts from second to second (the same static app answered 3,500 to 5,800
req/s in eight rounds of one run), so a ratio of two medians taken from different rounds moves
with the drift; the paired ratio much less. The spread of the rounds' ratios is printed beside it.
Every round posts fresh requests (new CallSids): a round that posted the same ones again would
measure repeated webhooks, which the call log takes as duplicates.
The machine's load average is printed next to it.
It also prints the machine's CPU per answered request of each side (the server's workers, the
hotline's redis-server and wrk) and their ratio: about what the throughput ratio would be with
nothing else running.
Then it profiles the in-process app (bench/voice_profile.py: Flask test client, same Redis) under
cProfile and prints, per kind, microseconds per request in: signature check, routing, TwiML, Redis (client calls, including
the socket wait), the rest (Flask, form parsing, views), and Redis round trips per request.
Bounded: about (2 x rounds x kinds x --seconds) plus set-up. No pass/fail: the goals are printed
next to the figures (>= 0.60 for /voice, >= 0.50 for every other kind).

Needs `wrk` (Debian package `wrk`). Run: .venv/bin/python bench/voice_bench.py [--seconds S] [--rounds R]
[--kinds voice,menu-key,...] [--no-profile] [--baseline OTHER_SOURCE_TREE]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.callsim import new_sid, sign  # noqa: E402
from tests.support.redis_server import RedisServer, free_port  # noqa: E402

TOKEN = "bench-token-0123456789"
CALLER = "+4534412350"
CONNECTIONS = 16
GOALS = {"voice": 0.60}  # every other kind: 0.50
OTHER_GOAL = 0.50
# A moment outside office hours, so the network service rings the screened IT contacts (two steps).
EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone.utc)

WRK_SCRIPT = r"""
local reqs, i = {}, 0
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  local n, k = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if n % k == id then
      local path, body, sig = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
      reqs[#reqs + 1] = wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded",
                                                  ["X-Twilio-Signature"] = sig}, body)
    end
    n = n + 1
  end
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
"""


@dataclass
class Kind:
    """One webhook kind: its path (with query) and the form fields of the i-th distinct request."""

    name: str
    what: str
    path: Callable[[str], str]          # sid -> path with query
    params: Callable[[str], dict]       # sid -> form fields
    prepare: str = ""                   # what must be in Redis first: "" or "decision"


def call_params(sid: str, line: str, **extra) -> dict:
    return {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": line, "Called": line,
            "Caller": CALLER, "Direction": "inbound", "CallStatus": "in-progress", "ApiVersion": "2010-04-01",
            **extra}


def kinds(line: str, at: int) -> list[Kind]:
    """Return the webhook kinds of a call to `line` (the demo config), in call order."""
    from ivr.config.load import load_config

    q = urllib.parse.urlencode
    screen_q = lambda sid: q({"i": 0, "parent": sid, "s": "network", "at": at, "line": line})  # noqa: E731
    version = load_config(None).find(line).plan.version   # the dial URL's v=, as the app writes it
    return [
        Kind("voice", "/voice: a new call, announcements + top menu",
             lambda sid: "/voice", lambda sid: call_params(sid, line)),
        Kind("menu-key", "/voice/menu: a wrong key, re-prompt",
             lambda sid: "/voice/menu?" + q({"p": "", "t": 0, "n": 0}),
             lambda sid: call_params(sid, line, Digits="7")),
        Kind("menu-service", "/voice/menu: key 2, decide the route, dial step 1",
             lambda sid: "/voice/menu?" + q({"p": "", "t": 0, "n": 1}),
             lambda sid: call_params(sid, line, Digits="2")),
        Kind("dial", "/voice/dial: step 1 not answered, dial step 2",
             lambda sid: "/voice/dial?" + q({"s": "network", "i": 0, "at": at, "v": version}),
             lambda sid: call_params(sid, line, DialCallStatus="no-answer", DialCallDuration="0"),
             prepare="decision"),
        Kind("screen", "/voice/screen: the callee's whisper",
             lambda sid: "/voice/screen?" + screen_q(sid),
             lambda sid: call_params("CA" + sid[2:][::-1], "+4534412345", Direction="outbound-api")),
        Kind("screen-answer", "/voice/screen/answer: the callee pressed 1",
             lambda sid: "/voice/screen/answer?" + screen_q(sid),
             lambda sid: call_params("CA" + sid[2:][::-1], "+4534412345", Direction="outbound-api", Digits="1")),
        Kind("status", "/voice/status: the call ended",
             lambda sid: "/voice/status", lambda sid: call_params(sid, line, CallStatus="completed",
                                                                  CallDuration="42")),
    ]


def signed(kind: Kind, sid: str, base: str) -> tuple[str, str, str]:
    """Return (path, urlencoded body, signature) of one request of `kind` for call `sid`."""
    path, params = kind.path(sid), kind.params(sid)
    return path, urllib.parse.urlencode(params), sign(TOKEN, base + path, params)


def prepare_decisions(redis_url: str, sids: list[str], line: str) -> None:
    """Freeze the network service's decision at EVENING for every call, as /voice/menu would."""
    from ivr.calls.events import event
    from ivr.calls.gate import gated_client
    from ivr.calls.spool import Spool
    from ivr.calls.store import CallStore
    from ivr.config.load import load_config
    from routing import decide

    hotline = load_config(None).find(line)
    decision = decide(hotline.plan, "network", EVENING).to_dict()
    with tempfile.TemporaryDirectory() as spool:
        store = CallStore(gated_client(redis_url, timeout=5.0), Spool(spool))
        for sid in sids:
            store.add(event(sid, line, "service", f"service:{line}:{int(EVENING.timestamp())}", EVENING, service="network",
                            decision=decision, extra={}), 1)


def paired(side: list[float], static: list[float]) -> list[float]:
    """Return each round's ratio of `side`'s req/s to the static app's in the same round."""
    return [a / b for a, b in zip(side, static)]


def round_files(kind: Kind, rounds: int, per_round: int, base: str, redis_url: str, line: str,
                tmp: Path, tag: str, port: int) -> list[Path]:
    """Write one file of `per_round` distinct signed requests of `kind` per round (new CallSids
    each; their decisions in Redis first when the kind needs them) and warm the server on `port`
    with 200 more; returns the files."""
    files = []
    for n in range(rounds):
        sids = [new_sid() for _ in range(per_round + (200 if n == 0 else 0))]
        if kind.prepare == "decision":
            prepare_decisions(redis_url, sids, line)
        reqs = [signed(kind, sid, base) for sid in sids]
        if n == 0:
            warm(port, reqs[:200])
            reqs = reqs[200:]
        path = tmp / f"{kind.name}.{tag}.{n}.tsv"
        path.write_text("".join(f"{p}\t{b}\t{s}\n" for p, b, s in reqs))
        files.append(path)
    return files


# -- servers ----------------------------------------------------------------------------------
def procfile_web(app: str, port: int) -> list[str]:
    """Return the Procfile's web command for `app` on 127.0.0.1:`port` (2 workers unless
    WEB_CONCURRENCY says otherwise)."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    words = shlex.split(line[4:].replace("$PORT", str(port))
                        .replace("${WEB_CONCURRENCY:-2}", os.environ.get("WEB_CONCURRENCY", "2")))
    words[1] = app
    words = [w.replace("0.0.0.0:", "127.0.0.1:") for w in words]
    return [sys.executable, "-m", *words]


def start_server(app: str, port: int, env: dict, root: Path = ROOT) -> subprocess.Popen:
    """Start gunicorn (Procfile line) for `app` from the source tree `root`; wait until it answers."""
    proc = subprocess.Popen(procfile_web(app, port), cwd=root, env={**env, "PYTHONPATH": str(root)},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return answering(proc, app, port, 300)


def answering(proc: subprocess.Popen, app: str, port: int, tries: int) -> subprocess.Popen:
    """Return `proc` once 127.0.0.1:`port` answers HTTP (any status: the static app has no /healthz);
    kill it and exit after `tries` looks 0.05 s apart."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except urllib.error.HTTPError:
            return proc  # answering (404/405 from the static app is fine)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"gunicorn {app} did not start")


def warm(port: int, requests: list[tuple[str, str, str]]) -> None:
    """Send a few requests so both workers have imported and connected everything."""
    for path, body, sig in requests:
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(),
                                     headers={"X-Twilio-Signature": sig,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.urlopen(req, timeout=5).read()
        except urllib.error.HTTPError:
            pass


def wrk(port: int, requests_file: Path, script: Path, seconds: float) -> tuple[float, int, int, float]:
    """Run wrk; returns (req/s, requests, non-2xx responses, wrk's own CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "-s", str(script),
                          f"http://127.0.0.1:{port}", "--", str(requests_file), "2"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rate, total, int(bad.group(1)) if bad else 0, used


def cpu_seconds(pids: list[int]) -> float:
    """Return the user + system CPU seconds used so far by the processes `pids` and their children
    (a gunicorn master and its workers); a process that is gone counts 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick + cpu_seconds([int(c) for c in children])
    return total


def measured(port: int, pids: list[int], requests_file: Path, script: Path, seconds: float) -> tuple[float, int, int, float]:
    """Run wrk against the server on `port`; returns (req/s, requests, non-2xx, CPU µs per request of
    the machine's part in it: `pids` (the server, its workers, the Redis it uses) and wrk)."""
    before = cpu_seconds(pids)
    rate, total, bad, wrk_cpu = wrk(port, requests_file, script, seconds)
    used = cpu_seconds(pids) - before + wrk_cpu
    return rate, total, bad, used / max(total, 1) * 1e6


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# -- main -------------------------------------------------------------------------------------
def _positive(kind: type) -> Callable[[str], float]:
    """Return an argparse type: `kind` of the text, refused unless above 0."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
        return value
    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=_positive(float), default=2.0, help="wrk run length (default 2)")
    parser.add_argument("--rounds", type=_positive(int), default=9, help="interleaved static/hotline rounds (default 9)")
    parser.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")
    parser.add_argument("--requests", type=_positive(int), default=12000,
                        help="distinct requests per kind and round (default 12000)")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process profile")
    parser.add_argument("--baseline", type=Path, help="another source tree of the project (e.g. an older commit, "
                        "exported with git archive) measured in the same rounds")
    args = parser.parse_args()
    from ivr.config.load import load_config

    line = load_config(None).lines()[0].line
    at = int(EVENING.timestamp())
    all_kinds = kinds(line, at)
    names = [k.strip() for k in args.kinds.split(",") if k.strip()] or [k.name for k in all_kinds]
    unknown = sorted(set(names) - {k.name for k in all_kinds})
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(k.name for k in all_kinds)}")
    if args.baseline and not (args.baseline / "ivr" / "app.py").is_file():
        parser.error(f"--baseline {args.baseline}: not a source tree of the project (no ivr/app.py)")
    if shutil.which("wrk") is None:
        raise SystemExit("voice_bench: wrk is not installed (Debian: apt-get install wrk)")
    app_port, static_port = free_port(), free_port()
    base = f"http://127.0.0.1:{app_port}"
    with RedisServer() as redis_server, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": base,
               "HOTLINE_SPOOL_DIR": str(Path(tmp) / "spool"), "PYTHONPATH": str(ROOT),
               "HOTLINE_LAST_GOOD_DIR": str(Path(tmp) / "last-good")}
        for name in ("HOTLINE_CONFIG", "HOTLINE_INSECURE_NO_SIGNATURE", "WEB_CONCURRENCY"):
            env.pop(name, None)
        script = Path(tmp) / "signed.lua"
        script.write_text(WRK_SCRIPT)
        redis_pid = redis_server.pid
        app = start_server("ivr:create_app()", app_port, env)
        static = start_server("bench.static_twiml:app", static_port, env)
        servers = [app, static]
        base_port = free_port() if args.baseline else None
        if args.baseline:
            servers.append(start_server("ivr:create_app()", base_port, env, args.baseline.resolve()))
        try:
            print(f"gunicorn: {' '.join(procfile_web('APP', 0)[3:])}; wrk -t2 -c{CONNECTIONS} -d{args.seconds:g}s, "
                  f"distinct signed requests; {args.rounds} interleaved rounds; ratio: median of the rounds' "
                  f"own ratios (their range under 'rounds'); cores: {os.cpu_count()}")
            print("CPU µs/req: the machine's CPU per answered request while wrk ran (the server's workers, "
                  "the hotline's redis-server, wrk itself); their ratio is about the throughput ratio of a "
                  "machine with nothing else to do")
            print(f"{'kind':15} {'static/s':>9} {'hotline/s':>9} {'ratio':>6} {'rounds':>10} {'goal':>5}  {'static µs':>9} "
                  f"{'hotline µs':>10} {'ratio':>6}  {'load':>14}  "
                  + ("baseline/s ratio  µs  " if args.baseline else "") + "what")
            met = True
            for kind in all_kinds:
                if kind.name not in names:
                    continue
                files = round_files(kind, args.rounds, args.requests, base, redis_server.url, line,
                                    Path(tmp), "hotline", app_port)
                base_files = (round_files(kind, args.rounds, args.requests, base, redis_server.url, line,
                                          Path(tmp), "baseline", base_port) if args.baseline else [])
                warm(static_port, [signed(kind, new_sid(), base) for _ in range(10)])
                rates: dict[str, list[float]] = {"static": [], "hotline": [], "baseline": []}
                cpus: dict[str, list[float]] = {"static": [], "hotline": [], "baseline": []}
                loads, notes = [], []
                for n in range(args.rounds):
                    loads.append(os.getloadavg()[0])
                    runs = [("static", static_port, [static.pid], files[n]),
                            ("hotline", app_port, [app.pid, redis_pid], files[n])]
                    if args.baseline:
                        runs.append(("baseline", base_port, [servers[2].pid, redis_pid], base_files[n]))
                    for side, port, pids, requests_file in (runs if n % 2 == 0 else runs[::-1]):
                        rate, total, bad, cpu = measured(port, pids, requests_file, script, args.seconds)
                        rates[side].append(rate)
                        cpus[side].append(cpu)
                        if side != "static" and bad:
                            notes.append(f"{side}: {bad} non-2xx")
                        if side != "static" and total > args.requests:
                            notes.append(f"{side}: requests repeated (raise --requests)")
                ratios = paired(rates["hotline"], rates["static"])
                s, h = statistics.median(rates["static"]), statistics.median(rates["hotline"])
                sc, hc = statistics.median(cpus["static"]), statistics.median(cpus["hotline"])
                ratio = statistics.median(ratios)
                goal = GOALS.get(kind.name, OTHER_GOAL)
                met = met and ratio >= goal and not notes
                baseline = ""
                if args.baseline:
                    baseline = (f"{statistics.median(rates['baseline']):10.0f} "
                                f"{statistics.median(paired(rates['baseline'], rates['static'])):5.2f} "
                                f"{statistics.median(cpus['baseline']):4.0f}  ")
                print(f"{kind.name:15} {s:9.0f} {h:9.0f} {ratio:6.2f} {min(ratios):4.2f}..{max(ratios):4.2f} "
                      f"{goal:5.2f}  {sc:9.0f} {hc:10.0f} {sc / hc:6.2f}  "
                      f"{min(loads):4.1f}..{max(loads):4.1f} avg1  " + baseline + kind.what
                      + (f" [{', '.join(sorted(set(notes)))}]" if notes else ""), flush=True)
            print(f"goals {'met' if met else 'NOT met'}; load average now {load_average()}")
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=15)
        if not args.no_profile:
            from bench.voice_profile import profile

            redis_server.flushall()
            profile(redis_server.url, line, at, 1500, names)


if __name__ == "__main__":
    main()
