"""The gate between the web process and Redis: a shared breaker with a half-open probe, a time
budget per request, and call-path readers (outage status, Twilio's fallback) that do not wait."""
from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from ivr.calls.gate import (Breaker, GateClosed, GatedConnection, _own_connection, breaker_of, budget, gated_client,
                            run_command, run_script)
from ivr.config import load_config
from ivr.outages.status_copy import OutageStatusCopy
from ivr.outages.store import OutageStore
from tests.sms_helpers import client

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
T0 = dt.datetime(2026, 11, 23, 8, 12, tzinfo=dt.timezone.utc)


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@contextmanager
def hung(redis_server):
    """Redis accepts connections but answers nothing (SIGSTOP) until the block ends."""
    redis_server.freeze()
    try:
        yield
    finally:
        redis_server.thaw()


def test_breaker_opens_on_failure_and_lets_one_probe_through_after_the_pause():
    clock = FakeClock()
    b = Breaker(pause=2.0, clock=clock)
    assert b.admit() and not b.is_open()
    b.failed(OSError("timeout"))
    assert b.is_open() and not b.admit()
    clock.t += 2.0
    assert not b.is_open()
    assert b.admit(), "the first caller after the pause is the probe"
    assert not b.admit() and b.is_open(), "the others fail fast while the probe is out"
    b.failed(OSError("still hung"))
    assert not b.admit()
    clock.t += 2.0
    assert b.admit()
    b.succeeded()
    assert b.admit() and b.admit() and not b.is_open()


def test_a_hung_redis_costs_one_short_timeout_then_nothing(redis_server, redis_url):
    r = gated_client(redis_url, pause=30.0)
    assert r.set("k", "v")
    with hung(redis_server):
        began = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            r.get("k")
        first = time.monotonic() - began
        began = time.monotonic()
        for _ in range(20):
            with pytest.raises(GateClosed):
                r.get("k")
        with pytest.raises(GateClosed):
            r.pipeline().get("k").get("k").execute()
        rest = time.monotonic() - began
    assert first < 2.0, "one read timeout (0.25 s), no retry"
    assert rest < 0.5, "an open breaker touches no socket"
    assert breaker_of(r).is_open()


def test_the_probe_closes_the_breaker_when_redis_answers_again(redis_server, redis_url):
    r = gated_client(redis_url, pause=0.2)
    with hung(redis_server):
        with pytest.raises(redis.TimeoutError):
            r.get("k")
    time.sleep(0.3)
    assert r.set("k", "v") and r.get("k") == "v"
    assert not breaker_of(r).is_open()


def test_a_used_up_budget_skips_redis_without_opening_the_breaker(redis_url):
    r = gated_client(redis_url)
    with budget(0.0):
        with pytest.raises(GateClosed):
            r.get("k")
    assert not breaker_of(r).is_open()
    assert r.get("k") is None


def test_the_outage_status_copy_is_read_without_redis(redis_server, redis_url):
    cfg = load_config(BRONDBY)
    hotline = cfg.lines()[0]
    oid, _ = OutageStore(client(redis_url)).declare(hotline.line, "nexus", {"message": "", "declared_by": "test"}, T0)
    copy = OutageStatusCopy(gated_client(redis_url, pause=30.0), cfg.lines, every=3600)
    assert [o.id for o in copy.open_outages(hotline)] == [oid], "the first read waits for the first refresh"
    with hung(redis_server):
        assert not copy.refresh(), "Redis hangs: the copy is kept"
        began = time.monotonic()
        for _ in range(50):
            assert copy.open_id(hotline, "nexus") == oid
        assert time.monotonic() - began < 0.5
    time.sleep(0.1)


def test_twilio_fallback_url_never_touches_redis_and_its_events_arrive_later(voice_app, monkeypatch):
    sent = []
    real = GatedConnection.send_packed_command

    def counting(self, command, check_health=True):
        if threading.get_ident() == request_thread:   # not the flusher thread, which may run meanwhile
            sent.append(command)
        return real(self, command, check_health)

    request_thread = threading.get_ident()   # the Flask test client runs the view in this thread

    va = voice_app()
    call = va.call()
    monkeypatch.setattr(GatedConnection, "send_packed_command", counting)
    turn = call.send("/voice/fallback", call._call_params(ErrorCode="11200"))
    monkeypatch.setattr(GatedConnection, "send_packed_command", real)
    assert turn.kind == "dial" and not sent
    deadline = time.monotonic() + 10
    key = f"hotline:call:{call.sid}:events"
    while va.state.redis.llen(key) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    record = va.state.redis.lrange(key, 0, -1)
    assert len(record) == 2, "the flusher replays the spooled fallback events"
    assert va.record(call.sid)["outcome"] == "fallback"


def test_tls_and_unix_socket_urls_keep_their_kind_of_connection():
    from ivr.calls.gate import GatedSSLConnection, GatedUnixConnection

    assert gated_client("rediss://cache.example.org:6380/0").connection_pool.connection_class is GatedSSLConnection
    assert gated_client("unix:///run/redis.sock").connection_pool.connection_class is GatedUnixConnection
    assert gated_client("redis://127.0.0.1:6379/0").connection_pool.connection_class is GatedConnection
    assert gated_client("") is None


def test_a_forked_worker_gets_fresh_locks_and_its_own_flusher(redis_url, tmp_path):
    # gunicorn --preload forks workers from a process whose threads may hold a lock at that moment.
    from ivr.calls.events import event
    from ivr.calls.spool import Spool
    from ivr.calls.store import CallStore

    store = CallStore(gated_client(redis_url), Spool(tmp_path))
    at = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)
    assert store.add(event("CA1", "+45", "start", "start", at), 7)
    store.breaker._lock.acquire()          # as if a thread of the parent held it when it forked
    pid = os.fork()
    if pid == 0:                           # the child: must neither hang nor lose its flusher
        ok = store.add(event("CA2", "+45", "start", "start", at), 7) and store._flusher.is_alive()
        os._exit(0 if ok else 1)
    store.breaker._lock.release()
    deadline = time.monotonic() + 20
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0
    assert store.record("CA2")["line"] == "+45"


def test_one_request_out_of_budget_does_not_close_redis_for_the_process(redis_url, tmp_path):
    # A request that used up its own Redis time spools its event; other requests (threads) of
    # the process must still reach Redis: only a Redis that does not answer opens the breaker.
    from ivr.calls.events import event
    from ivr.calls.spool import Spool
    from ivr.calls.store import CallStore

    store = CallStore(gated_client(redis_url), Spool(tmp_path / "spool"), pause=2.0)
    with budget(0.0):
        assert store.add(event("CA9", "+4570112230", "start", "start", T0), 7)
    assert store.spool.pending(), "the event waits in the spool"
    assert not store.breaker.is_open() and store.available()


# -- run_script: the call log's one write per webhook, without redis-py's per-command layers --
_ECHO = "redis.call('SET', KEYS[1], ARGV[1]); return {ARGV[1], 1}"


def test_run_script_answers_as_the_client_call_does_and_reloads_a_lost_script(redis_url):
    r = gated_client(redis_url)
    script = r.register_script(_ECHO)
    assert run_script(r, script, ["k1"], ["v1"]) == script(keys=["k1"], args=["v1"]) == ["v1", 1]
    r.script_flush()                                         # e.g. Redis restarted: the cache is empty
    assert run_script(r, script, ["k2"], ["v2"]) == ["v2", 1]
    assert r.get("k2") == "v2"
    with pytest.raises(redis.ResponseError):
        run_script(r, r.register_script("return redis.call('INCR', KEYS[1])"), ["k2"], [])   # not a number
    assert r.get("k2") == "v2", "the connection is still good after an error reply"


def test_run_script_in_a_hung_redis_times_out_once_and_leaves_no_late_reply_behind(redis_server, redis_url):
    r = gated_client(redis_url, pause=0.2)
    script = r.register_script(_ECHO)
    assert run_script(r, script, ["k"], ["before"]) == ["before", 1]
    with hung(redis_server):
        with pytest.raises(redis.TimeoutError):
            run_script(r, script, ["k"], ["during"])    # Redis runs it once it is thawed
        with pytest.raises(GateClosed):
            run_script(r, script, ["k"], ["skipped"])
    time.sleep(0.3)
    # A connection kept after the timeout would hold the late reply of "during" and give it to this call.
    assert run_script(r, script, ["k"], ["after"]) == ["after", 1]
    assert r.get("k") == "after"


def test_run_command_answers_as_the_client_call_does_on_the_kept_connection_and_is_gated(redis_server, redis_url):
    r = gated_client(redis_url, pause=0.2)
    r.rpush("log", "a", "b")
    assert run_command(r, "LRANGE", "log", 0, -1) == r.lrange("log", 0, -1) == ["a", "b"]
    conn = _own_connection(r.connection_pool)
    assert run_command(r, "LLEN", "log") == 2 and _own_connection(r.connection_pool) is conn
    with hung(redis_server):
        with pytest.raises(redis.TimeoutError):
            run_command(r, "LRANGE", "log", 0, -1)
        with pytest.raises(GateClosed):
            run_command(r, "LRANGE", "log", 0, -1)      # the breaker is open: no socket touched
    time.sleep(0.3)
    assert run_command(r, "LRANGE", "log", 0, -1) == ["a", "b"]   # no late reply of the timed-out one


def test_run_script_out_of_budget_touches_no_socket_and_keeps_its_connection(redis_url):
    r = gated_client(redis_url)
    script = r.register_script(_ECHO)
    run_script(r, script, ["k"], ["a"])
    conn = _own_connection(r.connection_pool)
    sock = conn._sock
    with budget(0.0):
        with pytest.raises(GateClosed):
            run_script(r, script, ["k"], ["b"])
    assert _own_connection(r.connection_pool) is conn and conn._sock is sock is not None
    assert not breaker_of(r).is_open()
    assert r.get("k") == "a"


def test_each_thread_writes_on_its_own_connection_and_a_forked_child_on_a_new_one(redis_url):
    r = gated_client(redis_url)
    script = r.register_script(_ECHO)
    seen = {}
    together = threading.Barrier(3)

    def write(name, hold=None):
        run_script(r, script, [name], [name])
        seen[name] = _own_connection(r.connection_pool)
        if hold is not None:
            hold.wait(5)   # alive together: a thread that ended gives its connection back to the pool

    threads = [threading.Thread(target=write, args=(f"t{i}", together)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen.values()}) == 3
    assert [r.get(f"t{i}") for i in range(3)] == ["t0", "t1", "t2"]
    write("main")
    seen["main"].pid = -1                     # as it looks in a forked child
    write("child")
    assert seen["child"] is not seen["main"] and r.get("child") == "child"


def test_a_pool_disconnect_closes_the_kept_connection_and_the_next_write_connects_again(redis_url):
    r = gated_client(redis_url)
    script = r.register_script(_ECHO)
    run_script(r, script, ["k"], ["a"])
    r.connection_pool.disconnect()
    assert _own_connection(r.connection_pool)._sock is None
    assert run_script(r, script, ["k"], ["b"]) == ["b", 1]


def test_a_kept_connection_closed_by_redis_is_opened_again_without_opening_the_breaker(redis_url, tmp_path):
    # Redis's `timeout`, a restart or a failover closes idle connections; a thread's kept one must
    # notice that before it writes, as the pool does for its own, instead of failing one write.
    from ivr.calls.spool import Spool
    from ivr.calls.store import CallStore

    client = gated_client(redis_url, Breaker(2.0))
    store = CallStore(client, Spool(tmp_path / "spool"))
    ev = {"sid": "CA" + "1" * 32, "id": "a", "type": "start", "line": "+4570112299", "at": "x"}
    assert store.add(ev, 1)
    redis.Redis.from_url(redis_url).client_kill_filter(_type="normal", skipme=True)
    assert store.add(dict(ev, id="b"), 1)
    assert not store.breaker.is_open() and not list((tmp_path / "spool").glob("*"))
    assert len(client.lrange(f"hotline:call:{ev['sid']}:events", 0, -1)) == 2


def test_a_thread_that_ends_gives_its_kept_connection_back(redis_url, tmp_path):
    # Servers with a thread per request (werkzeug's) must not leave a connection per thread behind.
    import gc

    from ivr.calls.spool import Spool
    from ivr.calls.store import CallStore

    client = gated_client(redis_url, Breaker(2.0))
    store = CallStore(client, Spool(tmp_path / "spool"))

    def one(i):
        store.add({"sid": "CA" + "2" * 32, "id": f"e{i}", "type": "start", "line": "+4570112299", "at": "x"}, 1)

    for i in range(30):
        t = threading.Thread(target=one, args=(i,))
        t.start()
        t.join()
    gc.collect()
    pool = client.connection_pool
    assert len(pool._in_use_connections) <= 2 and len(pool._available_connections) <= 3
    assert len(redis.Redis.from_url(redis_url).client_list()) < 8
