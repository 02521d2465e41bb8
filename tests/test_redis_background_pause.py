"""A Redis that pauses for half a second (a slow fsync, a failover, a machine under load that does
not schedule it) while only the process's background threads talk to it: the write-behind's
flusher, the spool replay and the outage status refresher wait it out. No caller waits on them, so
they allow a reply a second (ivr.calls.gate.BACKGROUND_TIMEOUT) where the call path allows a quarter
(TIMEOUT): the pause neither opens the breaker for the whole process nor sends the events on the
slower way through the spool. A read on the call path still gives up after its short timeout."""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from ivr.calls.events import event
from ivr.calls.gate import BACKGROUND_TIMEOUT, TIMEOUT, breaker_of, gated_client
from ivr.calls.spool import Spool
from ivr.calls.store import CallStore
from ivr.callsim import CallSim
from ivr.config import load_config
from ivr.outages.status_copy import OutageStatusCopy
from ivr.outages.store import OutageStore
from tests.support.gunicorn import Gunicorn
from tests.support.redis_server import RedisServer
from tests.support.web_burst import CALLER, TOKEN, Timed

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
LINE = "+4570112230"
T0 = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.timezone.utc)
PAUSE = 0.5   # seconds Redis stops: above the call path's timeout, well below the background one


def test_the_pause_lies_between_the_two_timeouts():
    assert TIMEOUT + 0.2 <= PAUSE <= BACKGROUND_TIMEOUT - 0.4


def _paused(redis_server: RedisServer, seconds: float = PAUSE) -> threading.Timer:
    """Stop Redis now (SIGSTOP) and let it go on after `seconds` (SIGCONT)."""
    redis_server.freeze()
    thaw = threading.Timer(seconds, redis_server.thaw)
    thaw.start()
    return thaw


def _commit_behind(store: CallStore, ev: dict) -> None:
    store.begin_batch()
    try:
        store.add(ev, 3, None)
        assert store.commit_batch(behind=True) == []
    finally:
        store.end_batch()


def _unreachable(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]


def test_the_write_behind_waits_out_a_short_pause_without_the_spool_or_the_breaker(redis_server, redis_url,
                                                                                    tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    store = CallStore(gated_client(redis_url), Spool(tmp_path / "spool"))
    try:
        _commit_behind(store, event("CA1", LINE, "start", "start:CA1", T0))
        assert store.settle(10)   # connected, scripts loaded
        thaw = _paused(redis_server)
        try:
            ev = event("CA2", LINE, "start", "start:CA2", T0)
            _commit_behind(store, ev)
            assert store.settle(10)
        finally:
            thaw.join()
        assert store.spool.events("CA2") == [], "the events did not go the spool's way"
        assert not store.breaker.is_open()
        assert _unreachable(caplog) == []
        assert [e["id"] for e in store.events("CA2")] == [ev["id"]]
        assert store.redis.llen("hotline:call:CA2:events") == 1
    finally:
        store.close(5)


def test_a_read_on_the_call_path_still_gives_up_after_its_short_timeout(redis_server, redis_url, tmp_path):
    store = CallStore(gated_client(redis_url), Spool(tmp_path / "spool"))
    try:
        assert store.events("CA3") == []   # connected
        thaw = _paused(redis_server, 2.0)
        try:
            began = time.monotonic()
            assert store.events("CA3") == []
            took = time.monotonic() - began
        finally:
            thaw.join()
        assert took < BACKGROUND_TIMEOUT - 0.1, f"the read waited {took:.2f} s"
        assert store.breaker.is_open(), "the call path's timeout opens the breaker, as before"
    finally:
        store.close(5)


def test_the_outage_status_refresh_waits_out_a_short_pause(redis_server, redis_url):
    cfg = load_config(BRONDBY)
    hotline = cfg.lines()[0]
    oid, _ = OutageStore(redis.Redis.from_url(redis_url, decode_responses=True)).declare(
        hotline.line, "nexus", {"message": "", "declared_by": "test"}, T0)
    client = gated_client(redis_url)
    copy = OutageStatusCopy(client, cfg.lines, every=3600)
    assert copy.open_id(hotline, "nexus") == oid
    thaw = _paused(redis_server)
    try:
        assert copy.refresh(), "the refresh got its answer once Redis went on"
    finally:
        thaw.join()
    assert not breaker_of(client).is_open()
    assert copy.open_id(hotline, "nexus") == oid


def test_gunicorn_rides_out_a_short_redis_pause_without_spooling(tmp_path):
    # The Procfile's gunicorn; new calls (whose /voice needs no Redis on the request's thread) come
    # in while Redis stops for half a second, so only the background threads meet the pause.
    hotline = load_config(BRONDBY).lines()[0]
    spool = tmp_path / "spool"
    with RedisServer() as redis_server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
        env.update(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_CONFIG=str(BRONDBY),
                   HOTLINE_SPOOL_DIR=str(spool), HOTLINE_LAST_GOOD_DIR=str(tmp_path / "last-good"))
        web = Gunicorn(env, tmp_path / "gunicorn.log")
        web.env["PUBLIC_BASE_URL"] = web.url
        web.start()
        try:
            timed = Timed()

            def start_call(_) -> str:
                sim = CallSim(timed, hotline.line, CALLER, TOKEN, base_url=web.url)
                assert sim.start().says
                return sim.sid

            with ThreadPoolExecutor(max_workers=8) as pool:
                warm = list(pool.map(start_call, range(16)))   # both workers: connected, outage copy read
                thaw = _paused(redis_server)
                try:
                    began = time.monotonic()
                    paused = list(pool.map(start_call, range(24)))
                    answered_in = time.monotonic() - began
                finally:
                    thaw.join()
            r = redis.Redis.from_url(redis_server.url, decode_responses=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(r.exists(f"hotline:call:{sid}:events") for sid in warm + paused):
                time.sleep(0.1)
            missing = [sid for sid in warm + paused if not r.exists(f"hotline:call:{sid}:events")]
            assert missing == []
            assert answered_in < PAUSE * 4, "the /voice webhooks did not wait on Redis"
            assert all(s.status == 200 for s in timed.samples)
            log = web.log()
            assert "unreachable" not in log, log[-2000:]
            assert sorted(p.name for p in spool.glob("*.jsonl")) == [], "nothing went the spool's way"
        finally:
            web.stop()
            redis_server.thaw()
