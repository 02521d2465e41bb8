"""Write-behind of webhooks' call events (ivr.calls.behind, ivr.calls.journal): a webhook's events
are in its process's journal before it answers, Redis gets them from the flusher, and nothing is
lost when Redis fails, the journal refuses, or the process ends."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import redis

from ivr.calls import behind as behind_mod
from ivr.calls.append import follow_up
from ivr.calls.behind import WriteBehind
from ivr.calls.events import event
from ivr.calls.gate import gated_client
from ivr.calls.journal import Journal, adopt_orphans, journal_dir, journal_line, spooled_form
from ivr.calls.spool import Spool
from ivr.calls.store import CallStore

LINE = "+4570112230"
T0 = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.timezone.utc)


def _ev(sid: str, kind: str = "key", n: int = 0, **data) -> dict:
    return event(sid, LINE, kind, f"{kind}:{n}", T0 + dt.timedelta(seconds=n), **data)


def _journal_events(journal: Journal) -> list[dict]:
    if journal.path is None or not journal.path.exists():
        return []
    return [spooled_form(line) for line in journal.path.read_text().splitlines()]


class Recorder:
    """A write function for WriteBehind: records batches; blocks while `hold` is clear; raises
    OSError while `refuse` is set."""

    def __init__(self):
        self.batches: list[list] = []
        self.hold = threading.Event()
        self.hold.set()
        self.refuse = False

    def __call__(self, items, texts):
        self.hold.wait(10)
        if self.refuse:
            raise OSError("no room anywhere")
        assert [json.loads(t) for t in texts] == [{k: v for k, v in ev.items() if k != "_follow"} for ev, _, _ in items]
        self.batches.append([ev for ev, _, _ in items])


def test_events_are_journaled_before_submit_returns_and_the_journal_is_emptied_once_written(tmp_path):
    write = Recorder()
    write.hold.clear()
    wb = WriteBehind(write, Journal(tmp_path / "j"))
    a, b = _ev("CA1", n=1), follow_up(_ev("CA1", "end", 2), "hotline:due", 1.5e9, "CA1")
    wb.submit([(a, 3, 1.7e9), (b, 3, None)])
    journaled = _journal_events(wb.journal)
    assert [ev["id"] for ev in journaled] == [a["id"], b["id"]]
    assert journaled[0]["_ttl_days"] == 3 and journaled[0]["_index_ts"] == 1.7e9
    assert journaled[1]["_follow"] == ["hotline:due", 1.5e9, "CA1"]
    assert [ev["id"] for ev in wb.pending("CA1")] == [a["id"], b["id"]]
    assert wb.waiting() == 2
    write.hold.set()
    assert wb.settle(10)
    assert [[ev["id"] for ev in batch] for batch in write.batches] == [[a["id"], b["id"]]]
    assert wb.pending("CA1") == [] and wb.waiting() == 0
    _until(lambda: wb.journal.size == 0 and wb.journal.path.stat().st_size == 0)


def _until(predicate, timeout: float = 10.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.01)


def test_a_batch_nobody_takes_stays_journaled_and_queued_and_is_written_later(tmp_path, monkeypatch):
    monkeypatch.setattr(behind_mod, "RETRY_WAIT", 0.05)
    write = Recorder()
    write.refuse = True
    wb = WriteBehind(write, Journal(tmp_path / "j"))
    ev = _ev("CA2")
    wb.submit([(ev, 3, None)])
    assert not wb.settle(0.3)
    assert [e["id"] for e in _journal_events(wb.journal)] == [ev["id"]]
    assert [e["id"] for e in wb.pending("CA2")] == [ev["id"]]
    write.refuse = False
    assert wb.settle(10)
    assert write.batches == [[ev]]


def _rotated(tmp_path, monkeypatch, sid: str):
    """Return (write-behind, its held Recorder, the first journal file) once the flusher took a
    batch from that file, grown long, and went on in a new one."""
    monkeypatch.setattr(behind_mod, "ROTATE_BYTES", 200)
    write = Recorder()
    write.hold.clear()
    wb = WriteBehind(write, Journal(tmp_path / "j"))
    for n in range(6):
        wb.submit([(_ev(sid, n=n), 3, None)])
    first = wb.journal.path
    _until(lambda: wb.journal.path != first)
    return wb, write, first


def test_a_long_journal_goes_on_in_a_new_file_and_the_old_is_removed_once_written(tmp_path, monkeypatch):
    wb, write, first = _rotated(tmp_path, monkeypatch, "CA3")
    for n in range(6, 9):
        wb.submit([(_ev("CA3", n=n), 3, None)])
    assert first.exists() and wb.journal.path.exists()
    write.hold.set()
    assert wb.settle(10)
    assert not first.exists()
    assert sorted(ev["id"] for batch in write.batches for ev in batch) == sorted(f"key:key:{n}" for n in range(9))


def test_close_writes_what_waits_and_removes_the_journal(tmp_path):
    write = Recorder()
    wb = WriteBehind(write, Journal(tmp_path / "j"))
    wb.submit([(_ev("CA4"), 3, None)])
    path = wb.journal.path
    wb.close(5)
    assert write.batches and not path.exists()


def test_close_leaves_the_journal_when_nothing_takes_its_events(tmp_path, monkeypatch):
    monkeypatch.setattr(behind_mod, "RETRY_WAIT", 0.05)
    write = Recorder()
    write.refuse = True
    wb = WriteBehind(write, Journal(tmp_path / "j"))
    wb.submit([(_ev("CA5"), 3, None)])
    path = wb.journal.path
    wb.close(0.3)
    assert path.exists() and [e["id"] for e in spooled_form_lines(path)] == ["key:key:0"]


def spooled_form_lines(path) -> list[dict]:
    return [spooled_form(line) for line in path.read_text().splitlines()]


def test_a_journal_that_cannot_be_made_refuses_and_queues_nothing(tmp_path):
    (tmp_path / "j").write_text("a file where the directory should be")
    wb = WriteBehind(Recorder(), Journal(tmp_path / "j"))
    with pytest.raises(OSError):
        wb.submit([(_ev("CA6"), 3, None)])
    assert wb.waiting() == 0 and wb.pending("CA6") == []


# -- adoption of a dead process's journal ------------------------------------------------------
def test_orphans_are_moved_into_the_spool_and_a_living_journal_is_left(tmp_path):
    folder = tmp_path / "j"
    living = Journal(folder)
    living.append('{"t":3,"i":null,"f":null,"e":{"id":"key:a","sid":"CA7","type":"key","at":"x"}}\n')
    dead = folder / "4242-abc.log"
    dead.write_text('{"t":3,"i":1.5,"f":["k",2.0,"m"],"e":{"id":"end:b","sid":"CA8","type":"end","at":"y"}}\n'
                    'not json\n')
    spool = Spool(tmp_path / "spool")
    assert adopt_orphans(folder, spool) == 1
    assert not dead.exists() and living.path.exists()
    assert spool.events("CA8") == [{"id": "end:b", "sid": "CA8", "type": "end", "at": "y",
                                    "_ttl_days": 3, "_index_ts": 1.5, "_follow": ["k", 2.0, "m"]}]
    assert spool.events("CA7") == []


# -- the store on a real Redis -------------------------------------------------------------------
@pytest.fixture
def store(redis_url, tmp_path):
    client = gated_client(redis_url, pause=0.0)
    client.flushdb()
    made = CallStore(client, Spool(tmp_path / "spool"), pause=0.0)
    yield made
    made.behind.close(5)


def _commit_behind(store: CallStore, items) -> list:
    store.begin_batch()
    try:
        for ev, days, ts in items:
            store.add(ev, days, ts)
        return store.commit_batch(behind=True)
    finally:
        store.end_batch()


def test_a_webhooks_batch_reaches_redis_behind_and_hooks_run_for_new_events_only(store):
    replayed, observed = [], []
    store.on_replayed = replayed.append
    store.on_event.append(lambda ev: observed.append((ev["id"], (store.record(ev["sid"]) or {}).get("outcome"))))
    start = _ev("CA9", "start", 0)
    end = follow_up(_ev("CA9", "end", 5, outcome="answered"), "hotline:test:due", 1.7e9, "CA9")
    assert _commit_behind(store, [(start, 3, 1.7e9), (end, 3, None)]) == []
    assert store.settle(10)
    logged = [json.loads(raw) for raw in store.redis.lrange("hotline:call:CA9:events", 0, -1)]
    assert [ev["id"] for ev in logged] == [start["id"], end["id"]]
    assert "_follow" not in logged[1]
    assert store.redis.zscore("hotline:test:due", "CA9") == 1.7e9
    assert [ev["id"] for ev in replayed] == [start["id"], end["id"]] and "_follow" not in replayed[1]
    # The observers read the call's record as the write left it (the log came back with it).
    final = store.record("CA9")["outcome"]
    assert final != "in_progress" and observed == [(start["id"], final), (end["id"], final)]
    # The same events again (Twilio repeating its callback): nothing new, no hook.
    _commit_behind(store, [(start, 3, 1.7e9), (end, 3, None)])
    assert store.settle(10)
    assert len(replayed) == 2 and store.redis.llen("hotline:call:CA9:events") == 2


def _hold_writes(store: CallStore) -> threading.Event:
    """Make the store's write-behind wait before each write until the returned event is set."""
    store.behind._start()
    gate = threading.Event()
    real = store.behind._write
    store.behind._write = lambda items, texts: (gate.wait(10), real(items, texts))
    return gate


def test_a_process_reads_its_own_events_before_they_are_written(store):
    gate = _hold_writes(store)
    ev = _ev("CA10", "start")
    _commit_behind(store, [(ev, 3, None)])
    assert store.redis.llen("hotline:call:CA10:events") == 0
    assert [e["id"] for e in store.events("CA10")] == [ev["id"]]
    assert store.record("CA10")["line"] == LINE
    gate.set()
    assert store.settle(10)
    assert [e["id"] for e in store.events("CA10")] == [ev["id"]]


def test_hooks_get_the_event_without_its_follow_up_whether_written_behind_or_replayed(store):
    # The follow-up travels with the event to the script; it is no part of the logged event, so
    # neither way of writing it hands it to the outcome hooks.
    heard = []
    store.on_replayed = heard.append
    behind = follow_up(_ev("CA17", "end", 1, outcome="abandoned"), "hotline:test:due", 1.7e9, "CA17")
    _commit_behind(store, [(behind, 3, None)])
    assert store.settle(10)
    spooled = follow_up(_ev("CA18", "end", 1, outcome="abandoned"), "hotline:test:due", 1.7e9, "CA18")
    store.spool.append({**spooled, "_ttl_days": 3, "_index_ts": None})
    assert store.flush() == 1
    assert [ev["id"] for ev in heard] == [behind["id"], spooled["id"]]
    assert [sorted(ev) for ev in heard] == [sorted(k for k in behind if k != "_follow")] * 2
    assert store.redis.zscore("hotline:test:due", "CA18") == 1.7e9


def test_with_redis_down_the_flusher_spools_and_the_replay_runs_the_hooks(tmp_path):
    from tests.support.redis_server import RedisServer

    with RedisServer() as server:
        client = gated_client(server.url, pause=0.0)
        store = CallStore(client, Spool(tmp_path / "spool"), pause=0.0)
        replayed = []
        store.on_replayed = replayed.append
        server.freeze()
        try:
            ev = _ev("CA11", "end", 1, outcome="abandoned")
            _commit_behind(store, [(ev, 3, None)])
            assert store.settle(10)
            assert [e["id"] for e in store.spool.events("CA11")] == [ev["id"]]
            assert replayed == []
        finally:
            server.thaw()
        assert store.flush() == 1
        assert [e["id"] for e in replayed] == [ev["id"]]
        assert store.redis.llen("hotline:call:CA11:events") == 1
        store.behind.close(5)


def test_a_refusing_journal_makes_the_webhook_write_its_events_itself(store, caplog):
    directory = store.behind.journal.dir
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("not a directory")
    ev = _ev("CA12")
    committed = _commit_behind(store, [(ev, 3, None)])
    assert committed == [(ev, True)]
    assert store.redis.llen("hotline:call:CA12:events") == 1
    assert "refused a write" in caplog.text


def test_the_journal_sits_beside_the_spool(tmp_path):
    assert journal_dir(tmp_path / "spool") == tmp_path / "spool.journal"
    store = CallStore(redis.Redis(), Spool(tmp_path / "spool"))
    assert store.behind.journal.dir == tmp_path / "spool.journal"
    assert CallStore(None, Spool(tmp_path / "spool")).behind is None
    assert CallStore(redis.Redis(), Spool(tmp_path / "spool"), write_behind=False).behind is None


def test_a_read_while_the_flusher_writes_misses_no_event(store, monkeypatch):
    # The flusher writes the waiting event between this process's Redis read and its look at
    # what waits: the event is in one of them (or both: fold drops repeats), never in neither.
    from ivr.calls import store as store_mod

    gate = _hold_writes(store)
    ev = _ev("CA13", "start")
    _commit_behind(store, [(ev, 3, None)])
    real_command = store_mod.run_command

    def command_then_flush(*args, **kwargs):
        answer = real_command(*args, **kwargs)
        gate.set()
        assert store.settle(10)
        return answer

    monkeypatch.setattr(store_mod, "run_command", command_then_flush)
    assert [e["id"] for e in store.events("CA13")] == [ev["id"]]


def test_a_read_kept_for_the_request_misses_no_event_the_flusher_wrote_since(store):
    # Inside a request, Redis is read once per call and the answer kept; an event that waited
    # behind at that read and was written afterwards must not drop out of later reads.
    gate = _hold_writes(store)
    ev = _ev("CA14", "start")
    _commit_behind(store, [(ev, 3, None)])
    store.begin_batch()
    try:
        assert [e["id"] for e in store.events("CA14")] == [ev["id"]]
        gate.set()
        assert store.settle(10)
        assert [e["id"] for e in store.events("CA14")] == [ev["id"]]
    finally:
        store.end_batch()


def test_a_short_journal_write_leaves_no_broken_line_before_the_next_events(tmp_path):
    # A full disk mid-write: the webhook writes those events itself; the next webhook's events,
    # journaled once there is room again, must still be readable by the process that adopts them.
    from ivr.calls import journal as journal_mod

    journal = Journal(tmp_path / "j")
    first, torn, later = _ev("CA15", n=1), _ev("CA15", n=2), _ev("CA15", n=3)
    journal.append(journal_line(json.dumps(first), 3, None, None))
    real_write = journal_mod.os.write
    journal_mod.os.write = lambda fd, data: real_write(fd, data[: len(data) // 2])
    try:
        with pytest.raises(OSError):
            journal.append(journal_line(json.dumps(torn), 3, None, None))
    finally:
        journal_mod.os.write = real_write
    journal.append(journal_line(json.dumps(later), 3, None, None))
    journal.close(remove=False)
    spool = Spool(tmp_path / "spool")
    assert adopt_orphans(tmp_path / "j", spool) == 2
    assert [e["id"] for e in spool.events("CA15")] == [first["id"], later["id"]]


def test_a_forked_child_holds_no_lock_on_its_parents_old_journal(tmp_path, monkeypatch):
    # A child forked while an old journal waits to be retired must not keep that journal locked:
    # when the parent dies, the journal's events belong to whichever process adopts them.
    import os

    wb, write, first = _rotated(tmp_path, monkeypatch, "CA16")
    read_end, write_end = os.pipe()
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child says it runs, and lives on until the parent says so
        os.close(write_end)
        os.write(ready_write, b"r")
        os.read(read_end, 1)
        os._exit(0)
    try:
        os.close(read_end)
        os.close(ready_write)
        assert os.read(ready_read, 1) == b"r"
        os.close(ready_read)
        with wb._lock:   # the parent's own hold on the old journal ends, as at its death
            _, (fd, _path) = wb._retire.pop(0)
            os.close(fd)
        spool = Spool(tmp_path / "spool")
        assert adopt_orphans(tmp_path / "j", spool) == 6
        assert not first.exists()
    finally:
        os.write(write_end, b"x")
        os.close(write_end)
        os.waitpid(pid, 0)
        write.hold.set()
        assert wb.settle(10)
        wb.close(5)


def test_a_call_log_that_reads_back_badly_does_not_hold_up_the_events_behind_it(store, monkeypatch):
    # Redis took the batch; a log brought back for the observers that is not JSON must not make
    # the flusher count the batch as refused: it would write it again for ever (its hooks never
    # run, Redis finding it there) and every event after it would wait behind it.
    monkeypatch.setattr(behind_mod, "RETRY_WAIT", 0.05)
    replayed = []
    store.on_replayed = replayed.append
    store.on_event.append(lambda ev: store.record(ev["sid"]))
    store.redis.rpush("hotline:call:CA17:events", "not json")
    end = _ev("CA17", "end", 1, outcome="abandoned")
    _commit_behind(store, [(end, 3, None)])
    later = _ev("CA18", "start", 2)
    _commit_behind(store, [(later, 3, None)])
    assert store.settle(5)
    assert store.redis.llen("hotline:call:CA18:events") == 1
    assert [ev["id"] for ev in replayed] == [end["id"], later["id"]]


def test_an_orphans_line_the_spool_refuses_is_skipped_not_adopted_again_and_again(tmp_path):
    # A line that is JSON but no event the spool takes (a CallSid garbled on disk) must not stop
    # the adoption half-way: the lines before it would be spooled again at every look.
    folder = tmp_path / "j"
    folder.mkdir()
    dead = folder / "4243-abc.log"
    dead.write_text('{"t":3,"i":null,"f":null,"e":{"id":"key:a","sid":"CA19","type":"key","at":"x"}}\n'
                    '{"t":3,"i":null,"f":null,"e":{"id":"key:b","sid":"C\\u00e5/..","type":"key","at":"x"}}\n'
                    '{"t":3,"i":null,"f":null,"e":{"id":"key:c","sid":"CA19","type":"key","at":"y"}}\n')
    spool = Spool(tmp_path / "spool")
    assert adopt_orphans(folder, spool) == 2
    assert not dead.exists()
    assert [e["id"] for e in spool.events("CA19")] == ["key:a", "key:c"]


def test_a_read_while_the_flusher_spools_misses_no_event(tmp_path):
    # Redis down: the flusher moves a waiting event into the spool between this process's look
    # at the spool and its look at what waits; the event is in one of them, never in neither.
    client = gated_client("redis://127.0.0.1:9", pause=60.0)
    store = CallStore(client, Spool(tmp_path / "spool"), pause=60.0)
    store.breaker.failed(redis.ConnectionError("down"))
    gate = _hold_writes(store)
    ev = _ev("CA20", "start")
    _commit_behind(store, [(ev, 3, None)])
    real_events = store.spool.events
    reader = threading.get_ident()

    def look_then_flush(sid):
        found = real_events(sid)
        if threading.get_ident() == reader and not gate.is_set():
            gate.set()
            assert store.settle(10)
        return found

    store.spool.events = look_then_flush
    try:
        assert [e["id"] for e in store.events("CA20")] == [ev["id"]]
    finally:
        store.spool.events = real_events
        store.behind.close(5)


def test_an_old_journal_stays_while_a_batch_of_it_is_being_written(tmp_path, monkeypatch):
    # At exit, close() writes batches while the flusher may be writing an older one: a newer
    # batch written first must not count the old journal as written (were the older batch then
    # refused, its events would be on disk nowhere).
    monkeypatch.setattr(behind_mod, "ROTATE_BYTES", 200)
    monkeypatch.setattr(behind_mod, "RETRY_WAIT", 0.05)
    first_call, calls = threading.Event(), []

    def write(items, texts):
        calls.append(len(items))
        if len(calls) == 1:
            first_call.wait(10)
            raise OSError("no room anywhere")

    wb = WriteBehind(write, Journal(tmp_path / "j"))
    wb.submit([(_ev("CA21", n=n), 3, None) for n in range(6)])
    first = wb.journal.path
    _until(lambda: wb.journal.path != first)      # the flusher writes the old file's batch
    wb.submit([(_ev("CA21", n=n), 3, None) for n in range(6, 12)])
    closing = threading.Thread(target=wb.flush_once)
    closing.start()
    closing.join(0.5)
    try:
        assert first.exists()
    finally:
        first_call.set()
        closing.join(10)
        assert wb.settle(10)
        wb.close(5)


def test_close_keeps_to_its_timeout_while_a_batch_is_being_written(tmp_path):
    # The flusher's write hangs (a Redis that answers nothing, a test holding it): close() gives
    # up after its timeout and leaves the journal for another process, it does not wait the
    # write out.
    import time

    write = Recorder()
    write.hold.clear()
    wb = WriteBehind(write, Journal(tmp_path / "j"))
    wb.submit([(_ev("CA30", n=1), 3, None)])
    _until(lambda: not wb._queue)                 # the flusher took the batch: its write waits
    began = time.monotonic()
    try:
        wb.close(0.3)
        took = time.monotonic() - began
    finally:
        write.hold.set()
    assert took < 5, f"close(0.3) took {took:.1f} s"
    assert wb.settle(10)


def test_store_close_returns_once_its_spool_flusher_has_stopped(redis_url, tmp_path):
    # After close() nothing of the store writes any more: a replay in flight is waited for (within
    # the timeout), and the flusher thread has ended.
    from ivr.calls.store import connect_redis

    store = CallStore(connect_redis(redis_url), Spool(tmp_path / "spool"), pause=0.0)
    entered, release = threading.Event(), threading.Event()
    real = store._write

    def slow(*args):
        entered.set()
        release.wait(10)
        return real(*args)

    store._write = slow
    ev = _ev("CA31", "start")
    store.add(ev, 3, spool_only=True)             # spooled, the flusher woken to replay it
    assert entered.wait(10)
    threading.Timer(0.5, release.set).start()
    try:
        store.close()
        assert not store._flusher.is_alive()
        assert store.redis.llen(f"hotline:call:{ev['sid']}:events") == 1
    finally:
        release.set()
