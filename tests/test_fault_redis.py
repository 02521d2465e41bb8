"""Fault test on real processes: the Procfile's gunicorn (2 workers x 4 threads) and a real
redis-server that hangs (SIGSTOP) and then dies (SIGKILL) in the middle of a burst of signed calls.

Every webhook must still answer 200 with TwiML the call can go on with, quickly (the goal is under
1 s; the bound here is 3 s for a loaded 2-core machine), and once Redis is back every call's
record must be complete in the call log (nothing lost from the spool).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from ivr.calls.events import fold
from ivr.config import load_config
from ivr.outages.store import OutageStore
from tests.support.gunicorn import Gunicorn
from tests.support.redis_server import RedisServer, free_port
from tests.support.web_burst import TOKEN, Timed, missing_from_record, play_call

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
# Acknowledged writes survive SIGKILL, as with a production Redis that persists.
DURABLE = ("--appendonly", "yes", "--appendfsync", "always")
CALLS, SECONDS = 40, 10.0          # calls started evenly over SECONDS
FREEZE_AT, KILL_AT, BACK_AT = 2.0, 5.0, 7.0
EACH_WEBHOOK_UNDER = 3.0


def test_webhooks_answer_while_redis_hangs_and_dies_and_every_record_arrives(tmp_path):
    hotline = load_config(BRONDBY).lines()[0]
    with RedisServer(extra_args=DURABLE) as redis_server:
        plain = redis.Redis.from_url(redis_server.url, decode_responses=True)
        OutageStore(plain).declare(hotline.line, "nexus", {"message": "", "declared_by": "test"},
                                   dt.datetime.now(dt.timezone.utc))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
        env.update(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                   HOTLINE_CONFIG=str(BRONDBY), HOTLINE_SPOOL_DIR=str(tmp_path / "spool"),
                   HOTLINE_LAST_GOOD_DIR=str(tmp_path / "last-good"))
        web = Gunicorn(env, tmp_path / "gunicorn.log", port).start()
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:   # warm up: both workers load their outage copy
                list(pool.map(lambda _: play_call(Timed(), web.url, hotline.line), range(16)))
            timed, began = Timed(), time.monotonic()
            faults = threading.Thread(target=_hang_kill_restart, args=(redis_server, began))
            faults.start()
            with ThreadPoolExecutor(max_workers=16) as pool:
                futures = []
                for i in range(CALLS):
                    time.sleep(max(0.0, began + i * SECONDS / CALLS - time.monotonic()))
                    futures.append((time.monotonic() - began,
                                    pool.submit(play_call, timed, web.url, hotline.line, "1", i % 4 == 3)))
                played = [(start, f.result()) for start, f in futures]
            faults.join()

            errors = [p.error for _, p in played if p.error]
            assert not errors, errors[:3]
            slow = [(s.path, round(s.seconds, 2)) for s in timed.samples if s.seconds >= EACH_WEBHOOK_UNDER]
            assert not slow, f"webhooks slower than {EACH_WEBHOOK_UNDER} s: {slow[:5]}"
            assert all(s.status == 200 for s in timed.samples)
            stalled = [s for s in timed.samples if FREEZE_AT <= s.at - began < BACK_AT]
            assert len(stalled) > 30, "the burst really ran while Redis was gone"
            assert all(p.keys == ["1"] for _, p in played), "every call heard the menu"
            before = [p for start, p in played if start < FREEZE_AT - 0.5]
            assert before and all(p.says_first[0].startswith("Nexus") for p in before), "the outage was announced"

            gaps = _wait_for_complete_records(plain, [p for _, p in played], tmp_path / "spool")
            assert not gaps, f"incomplete call records after Redis came back: {list(gaps.items())[:3]}"
        finally:
            web.stop()
            redis_server.thaw()


def _hang_kill_restart(redis_server: RedisServer, began: float) -> None:
    time.sleep(max(0.0, began + FREEZE_AT - time.monotonic()))
    redis_server.freeze()
    time.sleep(max(0.0, began + KILL_AT - time.monotonic()))
    redis_server.stop(kill=True)
    time.sleep(max(0.0, began + BACK_AT - time.monotonic()))
    redis_server.start()


def _wait_for_complete_records(r: redis.Redis, played: list, spool: Path, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        gaps = {}
        for p in played:
            events = [json.loads(raw) for raw in r.lrange(f"hotline:call:{p.sid}:events", 0, -1)]
            missing = missing_from_record(p, fold(p.sid, events) if events else None)
            if missing:
                gaps[p.sid] = missing
        left = list(spool.glob("*")) if spool.is_dir() else []
        if (not gaps and not left) or time.monotonic() > deadline:
            return gaps or ({"spool left": [f.name for f in left]} if left else {})
        time.sleep(0.5)
