"""How long call data is kept: every call-log key expires, late events never extend a call's
retention, unknown `To` values create no keys of their own, typed digits are kept only as needed.

The moment is passed in (the app's clock); expiry is read from the TTLs Redis reports.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ivr.calls.events import event
from ivr.calls.spool import Spool
from ivr.calls import append as call_append
from ivr.calls.store import DAY, CallStore, connect_redis
from tests.support.voice import TEST_YAML, config_from_text

T0 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)
LINE = "+4570112299"


@pytest.fixture
def cfg():
    return config_from_text(TEST_YAML)  # call_log_days: 3


def _events_key(sid: str) -> str:
    return f"hotline:call:{sid}:events"


def test_the_calls_index_and_the_set_of_lines_expire(cfg, voice_app):
    va = voice_app(cfg, at=T0)
    call = va.call()
    call.start()
    r = va.state.redis
    assert 3 * DAY - 60 < r.ttl(f"hotline:calls:{LINE}") <= 3 * DAY
    assert 3 * DAY - 60 < r.ttl("hotline:calls:lines") <= 3 * DAY


def test_a_line_with_a_longer_retention_keeps_the_set_of_lines_alive(redis_url, tmp_path):
    store = CallStore(connect_redis(redis_url), Spool(tmp_path))
    store.add(event("CA" + "1" * 32, "+4570112230", "start", "start", T0), 400, T0.timestamp())
    store.add(event("CA" + "2" * 32, LINE, "start", "start", T0), 3, T0.timestamp())
    assert store.redis.ttl("hotline:calls:lines") > 399 * DAY      # not shortened by the 3-day line


def test_late_events_do_not_extend_a_calls_retention(cfg, voice_app):
    va = voice_app(cfg, at=T0)
    call = va.call()
    call.start()
    call.press("1")
    r = va.state.redis
    # As if the call's retention had nearly run out: 5 s left (Redis's clock is not moved).
    for key in (_events_key(call.sid), f"hotline:call:{call.sid}:seen"):
        r.pexpire(key, 5000)
    va.clock.at = T0 + dt.timedelta(days=2)                     # a status callback two days late
    call.hang_up()
    assert va.record(call.sid)["ended_at"] == "2026-11-25T21:00:00+00:00"   # the event was recorded
    assert 0 < r.pttl(_events_key(call.sid)) <= 5000
    assert 0 < r.pttl(f"hotline:call:{call.sid}:seen") <= 5000


def test_a_call_to_an_unknown_number_creates_no_key_named_after_it(cfg, voice_app):
    va = voice_app(cfg, at=T0)
    call = va.call(line="NaN")
    assert call.start().kind == "hangup"
    r = va.state.redis
    assert not r.exists("hotline:calls:NaN")
    assert "NaN" not in r.smembers("hotline:calls:lines")
    assert r.zscore("hotline:calls:unknown", call.sid) == T0.timestamp()
    assert 0 < r.ttl("hotline:calls:unknown") <= 90 * DAY
    record = va.record(call.sid)
    assert (record["line"], record["outcome"], record["detail"]) == ("unknown", "unknown_line", "NaN")


def test_a_junk_line_from_the_spool_is_indexed_under_unknown(redis_url, tmp_path):
    store = CallStore(connect_redis(redis_url), Spool(tmp_path))
    store.add(event("CA" + "3" * 32, "NaN", "outcome", "unknown", T0), 90, T0.timestamp())
    assert not store.redis.exists("hotline:calls:NaN")
    assert store.redis.zcard("hotline:calls:unknown") == 1


def test_the_unknown_bucket_is_bounded(redis_url, tmp_path, monkeypatch):
    monkeypatch.setattr(call_append, "UNKNOWN_INDEX_CAP", 3)
    store = CallStore(connect_redis(redis_url), Spool(tmp_path))
    sids = [f"CA{i:032d}" for i in range(5)]
    for i, sid in enumerate(sids):
        at = T0 + dt.timedelta(minutes=i)
        store.add(event(sid, "unknown", "outcome", "unknown", at), 90, at.timestamp())
    assert store.redis.zrange("hotline:calls:unknown", 0, -1) == sids[2:]    # the newest three


def _entries(va, sid):
    return [(e["menu"], e["digits"], e["result"]) for e in va.record(sid)["entries"]]


def test_a_long_digit_string_at_a_menu_is_masked(cfg, voice_app):
    va = voice_app(cfg, at=T0)
    call = va.call()
    call.start()
    call.press("24681357")             # a PIN typed at the top menu
    call.press("7")                    # a wrong key: kept, it says what callers try
    raw = json.dumps(va.state.redis.lrange(_events_key(call.sid), 0, -1))
    assert "24681357" not in raw
    assert _entries(va, call.sid)[:2] == [("", "***", "invalid"), ("", "7", "invalid")]


def test_junk_at_a_menu_is_masked_too(cfg, voice_app):
    va = voice_app(cfg, at=T0)
    call = va.call()
    call.start()
    call.press("1234567890123456789012345678901234567890")
    assert _entries(va, call.sid) == [("", "***", "invalid")]


def test_option_keys_and_codes_at_a_code_prompt_are_kept(cfg, voice_app):
    va = voice_app(cfg, at=T0)
    call = va.call()
    call.start()
    call.press("2")
    call.press("2")
    call.press("999#")                 # a wrong code: kept, the code prompt asks for codes
    call.press("153#")
    assert _entries(va, call.sid) == [("", "2", "ok"), ("2", "2", "ok"), ("2.2", "999", "invalid"),
                                      ("2.2", "153", "ok")]


def test_docs_data_names_every_key_pattern():
    import inspect
    from pathlib import Path

    from ivr import keys

    table = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    for name, fn in inspect.getmembers(keys, inspect.isfunction):
        if fn.__module__ == keys.__name__:
            pattern = fn(*[f"{{{p}}}" for p in inspect.signature(fn).parameters])
            assert f"| `{pattern}` |" in table, f"docs/data.md has no row for {pattern} ({name})"
