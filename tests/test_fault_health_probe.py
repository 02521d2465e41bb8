"""A health check followed by a hung Redis, on real processes: the Procfile's gunicorn, a real
redis-server (SIGSTOPped) and a registered RQ worker, as in production.

/healthz counts the workers through the same Redis client the webhooks use; that must not change
the client's short timeouts, or webhooks that open a new connection while Redis hangs wait for it
to come back. Rounds: /healthz, calls, Redis hangs, eight webhooks at once; each must answer fast.
"""
from __future__ import annotations

import os
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
from rq import Worker

from ivr.callsim import new_sid, sign
from ivr.cli.call import http_post
from tests.support.gunicorn import Gunicorn
from tests.support.redis_server import RedisServer, free_port
from tests.support.web_burst import TOKEN

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
LINE, CALLER = "+4570112230", "+4534412350"
PATHS = ("/voice", "/voice/menu", "/voice/dial", "/voice/recorded", "/voice/status", "/voice/fallback/done",
         "/voice/staff/start", "/voice/fallback")
ROUNDS = 4
EACH_UNDER = 5.0      # the goal is under 1 s; before the fix these waited until Redis came back


def _post(base: str, path: str) -> tuple[str, int, float]:
    params = {"CallSid": new_sid(), "AccountSid": "AC" + "0" * 32, "From": CALLER, "To": LINE, "Called": LINE,
              "Direction": "inbound", "CallStatus": "in-progress"}
    began = time.monotonic()
    try:
        status, _ = http_post(base + path, params, {"X-Twilio-Signature": sign(TOKEN, base + path, params)})
    except OSError:
        status = 0
    return path, status, time.monotonic() - began


def test_webhooks_stay_fast_when_redis_hangs_after_a_health_check(tmp_path):
    with RedisServer() as redis_server:
        worker = Worker(["sms"], connection=redis.Redis.from_url(redis_server.url))
        worker.register_birth()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_", "REDIS_"))}
        env.update(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                   HOTLINE_CONFIG=str(BRONDBY), HOTLINE_SPOOL_DIR=str(tmp_path / "spool"),
                   HOTLINE_LAST_GOOD_DIR=str(tmp_path / "last-good"))
        web = Gunicorn(env, tmp_path / "gunicorn.log", port).start()
        slow = []
        try:
            for _ in range(ROUNDS):
                for _ in range(4):
                    urllib.request.urlopen(web.url + "/healthz", timeout=10).read()
                for _ in range(10):
                    _post(web.url, "/voice")
                time.sleep(2.5)      # the breaker of an earlier round is closed again
                redis_server.freeze()
                try:
                    with ThreadPoolExecutor(len(PATHS)) as pool:
                        answers = list(pool.map(lambda p: _post(web.url, p), PATHS))
                finally:
                    redis_server.thaw()
                slow += [(p, s, round(t, 2)) for p, s, t in answers if s != 200 or t >= EACH_UNDER]
                time.sleep(1)
        finally:
            web.stop()
            worker.register_death()
    assert not slow, f"webhooks slower than {EACH_UNDER} s or not 200 while Redis hung: {slow}"
