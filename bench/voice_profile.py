"""The in-process part of bench/voice_bench.py: where a webhook's time goes, under cProfile.

For each webhook kind it posts distinct signed requests to the app through Flask's test client (no
HTTP server; the same Redis) and prints microseconds per request in: the signature check, routing,
TwiML, Redis (client calls, including the socket wait), the rest (Flask, form parsing, views), and
Redis round trips per request (counted at the connection). Only the requests' own thread is
profiled: the write-behind's writes (ivr.calls.behind) run on another thread, which the webhook
does not wait for, and are not in these columns.
"""
from __future__ import annotations

import contextlib
import cProfile
import os
import pstats
import tempfile
import time

from bench.voice_bench import TOKEN, kinds, prepare_decisions
from ivr.callsim import new_sid, sign

PARTS = {
    "signature": [("ivr/signature.py", "is_valid")],
    "routing": [("routing/", "decide")],
    "TwiML": [("ivr/menus/twiml.py", ""), ("ivr/voice/render.py", ""), ("ivr/voice/context.py", "twiml"),
              ("twilio/twiml/", "")],
    # every client command passes execute_command; the call log's commands go to a connection directly
    "Redis": [("redis/client.py", "execute_command"), ("ivr/calls/gate.py", "run_command")],
}
# Round trips: one per command sent alone, one per pipeline (its commands go together).
REDIS_TRIPS = (("redis/connection.py", "send_command"), ("ivr/calls/gate.py", "pack_command"),
               ("redis/client.py", "_execute_transaction"), ("redis/client.py", "_execute_pipeline"))


def _redis_trips(stats: pstats.Stats) -> int:
    """Return how many Redis round trips the profiled requests made."""
    return sum(nc for key, (_cc, nc, _tt, _ct, callers) in stats.stats.items()
               if any(f in key[0] and key[2] == name for f, name in REDIS_TRIPS))


def _part_times(stats: pstats.Stats) -> dict[str, float]:
    """Return cumulative seconds per part, counting each outermost matching frame once."""
    raw = stats.stats  # (file, line, func) -> (cc, nc, tt, ct, callers)
    out = {}
    for part, patterns in PARTS.items():
        def hit(key) -> bool:
            return any(f in key[0] and (not fn or key[2] == fn) for f, fn in patterns)
        total = 0.0
        for key, (_cc, _nc, _tt, ct, callers) in raw.items():
            if hit(key) and not any(hit(c) for c in callers):
                total += ct
        out[part] = total
    return out


def profile(redis_url: str, line: str, at: int, per_kind: int, names: list[str]) -> None:
    """Print µs per request by part for each kind, from the in-process app under cProfile."""
    from ivr.app import create_app

    base = "http://127.0.0.1"
    # The per-webhook log lines go to a null device (written, as in production, but not shown).
    with tempfile.TemporaryDirectory() as spool, open(os.devnull, "w") as null, \
            contextlib.redirect_stderr(null):
        app = create_app(None, redis_url=redis_url, auth_token=TOKEN, public_base_url=base, spool_dir=spool)
        client = app.test_client()
        print(f"\nprofile: in-process app (Flask test client, no HTTP server), {per_kind} distinct requests "
              f"per kind, µs per request on the requests' thread (the write-behind's writes are on another); "
              f"cProfile's own overhead inflates every part alike")
        print(f"{'kind':15} {'total':>7} " + " ".join(f"{p:>9}" for p in PARTS) + f" {'rest':>9}  Redis round trips")
        for kind in kinds(line, at):
            if kind.name not in names:
                continue
            sids = [new_sid() for _ in range(per_kind)]
            if kind.prepare == "decision":
                prepare_decisions(redis_url, sids, line)
            reqs = [(kind.path(sid), kind.params(sid)) for sid in sids]
            sigs = [sign(TOKEN, base + path, params) for path, params in reqs]
            for (path, params), sig in list(zip(reqs, sigs))[:20]:  # warm up (first use, copies)
                client.post(path, data=params, headers={"X-Twilio-Signature": sig})
            prof = cProfile.Profile()
            t0 = time.perf_counter()
            prof.enable()
            for (path, params), sig in zip(reqs[20:], sigs[20:]):
                client.post(path, data=params, headers={"X-Twilio-Signature": sig})
            prof.disable()
            took = time.perf_counter() - t0
            n = len(reqs) - 20
            stats = pstats.Stats(prof)
            parts = _part_times(stats)
            rest = took - sum(parts.values())
            print(f"{kind.name:15} {took / n * 1e6:7.0f} " + " ".join(f"{parts[p] / n * 1e6:9.0f}" for p in PARTS)
                  + f" {rest / n * 1e6:9.0f}  {_redis_trips(stats) / n:.1f}")


