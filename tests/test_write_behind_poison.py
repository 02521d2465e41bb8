"""One malformed event must not hold up the call log: the write-behind and the spool's replay write
the events around it, and the malformed one as far as it can be written (its call-log entry; a
follow-up that cannot be written is dropped, loudly).

A follow-up comes from an outcome mark, which a plugin may give (ivr.app: hotline.outcome_marks);
before this, a mark with a due time that was no number made the flusher retry its batch for ever,
and every later event of the process waited behind it (its incidents never opened), and a spooled
one stopped the spool's replay at its file after every Redis outage."""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from ivr.calls.append import FOLLOW, append_arguments, follow_up
from ivr.calls.events import event
from ivr.calls.gate import gated_client
from ivr.calls.spool import Spool
from ivr.calls.store import CallStore

LINE = "+4570112230"
T0 = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.timezone.utc)
DUE_KEY = "hotline:test:due"


@pytest.fixture
def store(redis_url, tmp_path):
    client = gated_client(redis_url, pause=0.0)
    made = CallStore(client, Spool(tmp_path / "spool"), pause=0.0)
    yield made
    made.close()


def _ev(sid: str, kind: str, n: int, **data) -> dict:
    return event(sid, LINE, kind, str(n), T0 + dt.timedelta(seconds=n), **data)


def _behind(store: CallStore, items) -> None:
    store.begin_batch()
    try:
        for ev, days, ts in items:
            store.add(ev, days, ts)
        assert store.commit_batch(behind=True) == []
    finally:
        store.end_batch()


def _logged(store: CallStore, sid: str) -> list[str]:
    return [json.loads(raw)["id"] for raw in store.redis.lrange(f"hotline:call:{sid}:events", 0, -1)]


@pytest.mark.parametrize("due", ["soon", float("nan"), float("inf"), None])
def test_an_event_with_a_broken_follow_up_is_written_without_it_and_holds_up_nothing(store, caplog, due):
    replayed = []
    store.on_replayed = replayed.append
    bad = follow_up(_ev("CA1", "end", 5, outcome="abandoned"), DUE_KEY, due, "CA1")
    good = follow_up(_ev("CA2", "end", 6, outcome="abandoned"), DUE_KEY, 1.7e9, "CA2")
    with caplog.at_level(logging.ERROR):
        _behind(store, [(_ev("CA1", "start", 0), 3, 1.7e9), (bad, 3, None)])
        _behind(store, [(good, 3, None)])
        assert store.settle(5), "the events behind the malformed one were never written"
    assert _logged(store, "CA1") == ["start:0", "end:5"]
    assert _logged(store, "CA2") == ["end:6"]
    assert store.redis.zrange(DUE_KEY, 0, -1, withscores=True) == [("CA2", 1.7e9)]
    assert [ev["id"] for ev in replayed] == ["start:0", "end:5", "end:6"]
    assert any("end:5" in r.getMessage() and "follow-up" in r.getMessage() for r in caplog.records)
    assert not store.breaker.is_open() and store.spool.pending() == []
    assert store.behind.waiting() == 0


def test_a_spooled_event_with_a_broken_follow_up_does_not_stop_the_replay(store, caplog):
    store.spool.append({**_ev("CA3", "end", 1, outcome="abandoned"), FOLLOW: [DUE_KEY, "soon", "CA3"],
                        "_ttl_days": 3, "_index_ts": None})
    store.spool.append({**_ev("CA4", "start", 2), "_ttl_days": 3, "_index_ts": float("nan")})
    store.spool.append({**_ev("CA5", "start", 3), "_ttl_days": 3, "_index_ts": 1.7e9})
    with caplog.at_level(logging.ERROR):
        assert store.flush() == 3
    assert (_logged(store, "CA3"), _logged(store, "CA4"), _logged(store, "CA5")) == (["end:1"], ["start:2"], ["start:3"])
    assert store.redis.zcard(DUE_KEY) == 0
    assert store.spool.pending() == []
    assert sum("follow-up" in r.getMessage() or "index" in r.getMessage() for r in caplog.records) >= 2


@pytest.mark.parametrize("index_ts, follow", [(float("nan"), None), (1.7e9, [DUE_KEY, float("inf"), "m"])])
def test_a_score_redis_would_refuse_mid_script_is_refused_before_it(index_ts, follow):
    # Redis refuses "nan" and "inf" scores with an error in the middle of the script, after the
    # batch's earlier events were written, and the store took that for Redis being down.
    ev = _ev("CA6", "end", 1, outcome="abandoned")
    if follow:
        ev[FOLLOW] = follow
    with pytest.raises(ValueError):
        append_arguments([(ev, 3, index_ts)])


# -- an event no repair makes writable (a fault in the code, not in the data) ----------------------
def _failing_for(store: CallStore, monkeypatch, bad_sid: str) -> None:
    """Make every write of an event of call `bad_sid` raise as a bug would (not a Redis error)."""
    real = store._write_many

    def write_many(items, *args, **kwargs):
        if any(ev["sid"] == bad_sid for ev, _, _ in items):
            raise RuntimeError("a bug in writing this event")
        return real(items, *args, **kwargs)
    monkeypatch.setattr(store, "_write_many", write_many)


def test_a_batch_that_fails_as_a_bug_would_is_written_one_by_one_and_its_failing_event_spooled(
        store, monkeypatch, caplog):
    _failing_for(store, monkeypatch, "CA7")
    with caplog.at_level(logging.ERROR):
        _behind(store, [(_ev("CA7", "start", 0), 3, 1.7e9), (_ev("CA8", "start", 1), 3, 1.7e9)])
        _behind(store, [(_ev("CA9", "start", 2), 3, 1.7e9)])
        assert store.settle(5), "the events behind the failing one were never written"
    assert (_logged(store, "CA8"), _logged(store, "CA9")) == (["start:1"], ["start:2"])
    assert [ev["id"] for ev in store.spool.events("CA7")] == ["start:0"]   # kept, for the replay
    assert store.behind.waiting() == 0
    assert any("CA7" in r.getMessage() or "one by one" in r.getMessage() for r in caplog.records)


def test_a_spooled_call_whose_replay_fails_as_a_bug_would_stays_spooled_and_the_others_go_on(
        store, monkeypatch, caplog):
    for n, sid in enumerate(["CA10", "CA11", "CA12"]):
        store.spool.append({**_ev(sid, "start", n), "_ttl_days": 3, "_index_ts": 1.7e9})
    _failing_for(store, monkeypatch, "CA10")   # the first file in the spool's order
    with caplog.at_level(logging.ERROR):
        assert store.flush() == 2
        assert store.flush() == 0   # tried again, still refused, and still no exception
    assert (_logged(store, "CA11"), _logged(store, "CA12")) == (["start:1"], ["start:2"])
    assert [ev["id"] for ev in store.spool.events("CA10")] == ["start:0"]
    assert sum("CA10" in r.getMessage() for r in caplog.records) == 1   # said once, not every second
    monkeypatch.undo()
    assert store.flush() == 1 and _logged(store, "CA10") == ["start:0"]
