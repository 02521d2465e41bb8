"""The spool under concurrency and failure: an append racing a flush is never lost, and a flush
that fails puts the events back exactly as they were spooled (index time, retention)."""
from __future__ import annotations

import datetime as dt
import threading

from ivr.calls.events import event
from ivr.calls.spool import Spool
from ivr.calls.store import DAY, CallStore, connect_redis

MONDAY_22 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)


def test_a_failed_flush_keeps_the_index_time_and_the_retention(redis_server, redis_url, tmp_path):
    store = CallStore(connect_redis(redis_url), Spool(tmp_path), pause=0.0)
    ev = event("CA3", "+4570112299", "start", "start", MONDAY_22)
    store.spool.append({**ev, "_ttl_days": 7, "_index_ts": MONDAY_22.timestamp()})
    redis_server.stop()
    try:
        assert store.flush() == 0
        assert store.spool.pending(), "the event is back in the spool"
    finally:
        redis_server.start()
    assert store.flush() == 1
    r = store.redis
    assert r.zscore("hotline:calls:+4570112299", "CA3") == MONDAY_22.timestamp(), "the call is indexed"
    assert 0 < r.ttl("hotline:call:CA3:events") <= 7 * DAY, "the hotline's retention is kept"


def test_an_append_racing_a_flush_is_not_lost(tmp_path, monkeypatch):
    # The writer has opened the call's file when a flush in another worker claims and replays it:
    # the writer's line must still be replayed (now or by the next flush), never written into a
    # file that is already gone.
    import ivr.calls.spool as spool_module

    spool = Spool(tmp_path)
    spool.append(event("CA4", "+45", "start", "start", MONDAY_22))
    replayed: list[str] = []
    real_write = spool_module.os.write
    raced = threading.Event()

    def write_while_a_flush_runs(fd, data):
        if not raced.is_set():
            raced.set()
            other = threading.Thread(target=lambda: Spool(tmp_path).flush(lambda ev: replayed.append(ev["id"])))
            other.start()
            other.join(0.5)   # the flush finishes meanwhile, or waits for this append
        return real_write(fd, data)

    monkeypatch.setattr(spool_module.os, "write", write_while_a_flush_runs)
    spool.append(event("CA4", "+45", "entry", "0", MONDAY_22))
    monkeypatch.setattr(spool_module.os, "write", real_write)
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(5)
    spool.flush(lambda ev: replayed.append(ev["id"]))
    assert sorted(set(replayed)) == ["entry:0", "start:start"]


def test_writers_and_a_flusher_in_separate_processes_lose_no_event(tmp_path):
    # As in production: two gunicorn workers of four threads spool events while another flushes.
    import json
    import multiprocessing

    from tests.support.spool_race import flush_until, write_events

    spool_dir, stop, sink = tmp_path / "spool", tmp_path / "stop", tmp_path / "sink.json"
    ctx = multiprocessing.get_context("spawn")
    flusher = ctx.Process(target=flush_until, args=(str(spool_dir), str(stop), str(sink)))
    flusher.start()
    writers = [ctx.Process(target=write_events, args=(str(spool_dir), w, 4, 2000, 40)) for w in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
        assert w.exitcode == 0
    stop.touch()
    flusher.join(120)
    assert flusher.exitcode == 0
    replayed = json.loads(sink.read_text())
    Spool(spool_dir).flush(lambda ev: replayed.append(ev["id"]))
    assert len(set(replayed)) == 2 * 4 * 2000, "every appended event is replayed"
    assert not list(spool_dir.iterdir())
