"""The call log: one record per call in Redis, kept `call_log_days`, listed by `hotline calls`;
events written while Redis is down are spooled and flushed when it is back."""
from __future__ import annotations

import datetime as dt
import gc
import json
import time

import pytest

from ivr.calls.events import event, fold
from ivr.calls.spool import Spool
from ivr.calls.store import DAY, CallStore, connect_redis
from ivr.cli import main
from ivr.cli.calls import since_of
from tests.support.voice import TEST_YAML, config_from_text

MONDAY_22 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def cfg():
    return config_from_text(TEST_YAML)


def one_call(va, keys=("1",), ring=("accept",)):
    call = va.call()
    call.start()
    for key in keys:
        call.press(key)
    for outcome in ring:
        call.ring(outcome)
    call.hang_up()
    return call


def test_records_expire_after_the_configured_days(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = one_call(va)
    r = va.state.redis
    ttl = r.ttl(f"hotline:call:{call.sid}:events")
    assert 3 * DAY - 60 < ttl <= 3 * DAY          # call_log_days: 3 in the test config
    assert 3 * DAY - 60 < r.ttl(f"hotline:call:{call.sid}:seen") <= 3 * DAY
    assert r.zscore("hotline:calls:+4570112299", call.sid) == MONDAY_22.timestamp()


def test_old_index_entries_are_trimmed_and_expired_records_skipped(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22 - dt.timedelta(days=10))
    old = one_call(va)
    va.clock.at = MONDAY_22
    new = one_call(va)
    r = va.state.redis
    assert r.zscore("hotline:calls:+4570112299", old.sid) is None   # trimmed by the newer call's write
    r.delete(f"hotline:call:{new.sid}:events")                        # as if it had expired
    assert va.state.store.recent(["+4570112299"]) == []


def test_record_has_every_field_of_an_incident(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = one_call(va, ring=("decline", "no-answer", "accept"))
    record = va.record(call.sid)
    assert record["call_sid"] == call.sid and record["line"] == "+4570112299"
    assert record["from"] == "+4534412350" and record["to"] == "+4570112299"
    assert record["started_at"] == "2026-11-23T21:00:00+00:00" and record["ended_at"]
    assert record["keys"] == ["1"] and record["service"] == "system" and record["route"] == "on_call"
    assert record["decision"]["reason"].startswith("Mon 2026-11-23 22:00")
    assert [(a["step"], a["status"], a["accepted_by"]) for a in record["attempts"]] == [
        (0, "completed", None), (1, "no-answer", None), (2, "completed", "+4534412361")]
    assert record["outcome"] == "answered"


def test_hang_up_in_the_menu_is_logged(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.hang_up()
    assert va.record(call.sid)["outcome"] == "hung_up"


def test_fold_ignores_duplicates_and_keeps_order():
    at = MONDAY_22
    events = [event("CA1", "+45", "start", "start", at, **{"from": "+4511"}),
              event("CA1", "+45", "entry", "0", at, key="1", digits="1", result="ok", menu=""),
              event("CA1", "+45", "entry", "0", at, key="1", digits="1", result="ok", menu=""),
              event("CA1", "+45", "outcome", "x", at + dt.timedelta(seconds=5), outcome="message")]
    record = fold("CA1", events)
    assert record["keys"] == ["1"] and record["outcome"] == "message"
    assert record["ended_at"] == "2026-11-23T21:00:05+00:00"


def test_store_spools_quickly_when_redis_is_down_and_flushes_later(redis_server, redis_url, tmp_path):
    store = CallStore(connect_redis(redis_url), Spool(tmp_path), pause=0.0)
    redis_server.stop()
    began = time.monotonic()
    assert store.add(event("CA9", "+45", "start", "start", MONDAY_22), 90, MONDAY_22.timestamp())
    assert not store.add(event("CA9", "+45", "start", "start", MONDAY_22), 90, MONDAY_22.timestamp())
    assert time.monotonic() - began < 3, "a dead Redis must not hold up a call"
    assert store.record("CA9")["line"] == "+45"
    redis_server.start()
    store.flush()                      # unless the store's flusher thread was quicker
    assert not list(tmp_path.glob("*"))
    assert store.flush() == 0
    assert [r["call_sid"] for r in store.recent(["+45"])] == ["CA9"]


def test_spool_refuses_odd_callsids(tmp_path):
    with pytest.raises(ValueError):
        Spool(tmp_path).append({"sid": "../../etc/passwd", "id": "x"})


def test_since_parses_ages_and_iso():
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
    assert since_of("2h", now) == now - dt.timedelta(hours=2)
    assert since_of("7d", now) == now - dt.timedelta(days=7)
    assert since_of("2026-11-20T08:00", now) == dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)


def test_cli_calls_json_lists_records(cfg, voice_app, redis_url, monkeypatch, capsys, tmp_path):
    va = voice_app(cfg, at=MONDAY_22)
    first = one_call(va)
    va.clock.at = MONDAY_22 + dt.timedelta(minutes=5)
    second = one_call(va, keys=("9",), ring=("no-answer",))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "empty"))
    assert main(["calls", "--json", "--since", "2026-11-23T20:00"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["call_sid"] for r in records] == [second.sid, first.sid]
    for r in records:
        assert {"call_sid", "line", "from", "started_at", "keys", "service", "route", "outcome"} <= set(r)
    assert records[0]["route"] == "emergency" and records[0]["outcome"] == "message"
    assert main(["calls", "--json", "--since", "2026-11-23T21:03"]) == 0
    assert [r["call_sid"] for r in json.loads(capsys.readouterr().out)] == [second.sid]
    assert main(["calls", "--json", "--line", "+4570112230"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["calls"]) == 0
    table = capsys.readouterr().out
    assert "+4534412350" in table and "answered by +4534412362" in table


def test_cli_calls_with_redis_down_shows_the_spool_and_fails(redis_server, redis_url, monkeypatch, capsys, tmp_path):
    Spool(tmp_path).append(event("CA7", "+4570112299", "start", "start", MONDAY_22))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path))
    redis_server.stop()
    try:
        assert main(["calls", "--json"]) == 1
        captured = capsys.readouterr()
        assert [r["call_sid"] for r in json.loads(captured.out)] == ["CA7"]
        assert f"cannot reach Redis at {redis_url}" in captured.err
    finally:
        redis_server.start()


def test_a_claim_left_by_a_crashed_flush_is_replayed(redis_url, tmp_path):
    import os

    spool = Spool(tmp_path)
    spool.append(event("CA5", "+45", "start", "start", MONDAY_22))
    path = tmp_path / "CA5.jsonl"
    claimed = tmp_path / "CA5.999.flushing"
    os.rename(path, claimed)
    os.utime(claimed, (time.time() - 3600, time.time() - 3600))
    store = CallStore(connect_redis(redis_url), spool)
    assert store.flush() == 1
    assert store.record("CA5")["line"] == "+45" and not list(tmp_path.iterdir())


def test_cli_calls_line_as_dialled_or_a_second_inbound_number(voice_app, redis_url, monkeypatch, capsys, tmp_path):
    # Calls are indexed by the hotline's first number (E.164). An admin may type the number as
    # dialled in its country, or another inbound number of the same hotline: same calls.
    text = TEST_YAML.replace('numbers: ["+45 70 11 22 99"]', 'numbers: ["+45 70 11 22 99", "+45 70 11 22 98"]')
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    va = voice_app(config_from_text(text), at=MONDAY_22)
    call = one_call(va)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("HOTLINE_CONFIG", str(path))
    for typed in ("+4570112299", "70 11 22 99", "+45 70 11 22 98", "70112298"):
        assert main(["calls", "--json", "--line", typed]) == 0
        assert [r["call_sid"] for r in json.loads(capsys.readouterr().out)] == [call.sid], typed


def test_outcome_detail_counts_steps_from_1_like_hotline_route(cfg, voice_app):
    # `hotline route` prints the chain as step 1, step 2, then the exhausted dial ("then").
    va = voice_app(cfg, at=MONDAY_22)
    second = one_call(va, ring=("no-answer", "accept"))
    at_the_end = one_call(va, ring=("decline", "no-answer", "accept"))
    assert [a["step"] for a in va.record(second.sid)["attempts"]] == [0, 1]   # stored 0-based
    assert va.record(second.sid)["detail"] == "step 2"
    assert va.record(at_the_end.sid)["detail"] == "end number"


def test_listing_calls_shows_spooled_ones_and_leaves_the_replay_to_the_web_process(redis_url, tmp_path):
    # `hotline calls` runs without the app's outcome hooks: were it to replay the spool, a missed
    # call logged while Redis was down would reach the log without ever paging anyone.
    from ivr.calls.events import event
    from ivr.calls.spool import Spool
    from ivr.calls.store import CallStore, connect_redis

    at = dt.datetime(2026, 11, 22, 1, 14, tzinfo=dt.timezone.utc)
    web = CallStore(connect_redis(redis_url), Spool(tmp_path / "spool"))
    web.add(event("CA1", "+4570112230", "start", "start", at, **{"from": "+4534412351"}), 7, at.timestamp())
    del web  # its flusher thread ends with it
    gc.collect()
    spool = Spool(tmp_path / "spool")   # CA2 was logged while Redis was down
    spool.append({**event("CA2", "+4570112230", "start", "start", at, **{"from": "+4534412352"}),
                  "_ttl_days": 7, "_index_ts": at.timestamp()})
    spool.append({**event("CA2", "+4570112230", "outcome", "vm", at, outcome="voicemail"), "_ttl_days": 7,
                  "_index_ts": None})
    cli = CallStore(connect_redis(redis_url), Spool(tmp_path / "spool"))
    listed = {r["call_sid"]: r for r in cli.recent(["+4570112230"])}
    assert set(listed) == {"CA1", "CA2"} and listed["CA2"]["outcome"] == "voicemail"
    assert len(Spool(tmp_path / "spool").events("CA2")) == 2, "the CLI left the spool to the web process"
