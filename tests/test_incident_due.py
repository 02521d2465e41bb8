"""Settle marks (ivr.incidents.due): written with the call's event, exactly when it is new, and
turned into `settle` jobs by the pump with the same arguments the webhook used to enqueue."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from rq.job import Job

from ivr import keys
from ivr.calls.append import FOLLOW, follow_up
from ivr.calls.events import event
from ivr.incidents import due
from ivr.incidents.jobs import snapshot
from ivr.sms.jobs import queue
from tests.incident_helpers import OFFICE, missed_into_voicemail, notify_config
from tests.sms_helpers import client

AT = OFFICE
LINE = "+4570112299"
CALLER = "+4534412350"


def _ev(kind: str, **data) -> dict:
    return event("CA" + "1" * 32, LINE, kind, kind, AT, **data)


@pytest.mark.parametrize("ev,expected", [
    (_ev("outcome", outcome="answered"), (0.0, False)),
    (_ev("outcome", outcome="no_answer", detail="all steps"), (0.0, False)),
    (_ev("outcome", outcome="no_answer", detail="voicemail greeting (desk)"), (due.VOICEMAIL_WAIT, True)),
    (_ev("outcome", outcome="fallback"), None),       # the fallback <Dial>'s result decides
    (_ev("outcome", outcome="error"), None),
    (_ev("attempt", step="fallback"), (0.0, False)),
    (_ev("attempt", step=1), None),
    (_ev("end", call_status="completed"), (0.0, False)),
    (_ev("start"), None),
])
def test_which_events_settle_a_call_and_when(ev, expected):
    assert due.settle_when(ev) == expected


@pytest.mark.parametrize("caller,base", [(CALLER, "https://hotline.example.org"), ("", ""),
                                         ("+4534412399", "https://h.example.org/sub")])
def test_a_mark_carries_what_settle_was_given_before(caller, base):
    hotline = notify_config().lines()[0]
    ev = _ev("outcome", outcome="answered")
    key, score, member = due.mark(hotline, ev, AT, caller, base)
    assert key == keys.settle_due() and score == AT.timestamp()
    snap, sid, final = due.job_of(member)
    assert snap == json.loads(json.dumps(snapshot(hotline, caller, base))) and sid == ev["sid"] and final is False
    assert due.mark(hotline, ev, AT, caller, base)[2] == member   # the same event: the same member


def _mark(r, hotline, sid: str, event_id: str, at: dt.datetime, final: bool = False) -> str:
    ev = {"sid": sid, "id": event_id, "type": "end"}
    key, score, member = due.mark(hotline, ev, at, CALLER, "https://hotline.example.org")
    r.zadd(key, {member: score})
    return member


def test_the_pump_enqueues_what_is_due_removes_it_and_leaves_the_rest(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    now = AT.timestamp()
    _mark(r, hotline, "CA" + "a" * 32, "e1", AT)
    _mark(r, hotline, "CA" + "b" * 32, "e2", AT - dt.timedelta(seconds=5))
    later = _mark(r, hotline, "CA" + "c" * 32, "e3", AT + dt.timedelta(seconds=1))
    r.zadd(keys.settle_due(), {"not json": now - 1})
    assert due.waiting(r, now) == (3, 5.0)
    assert due.pump_once(r, now) == 2                  # the malformed one is dropped, not enqueued
    assert r.zrange(keys.settle_due(), 0, -1) == [later.encode()]
    jobs = [Job.fetch(i, connection=queue(r).connection) for i in queue(r).job_ids]
    assert sorted(j.args[1] for j in jobs) == ["CA" + "a" * 32, "CA" + "b" * 32]
    assert all(j.func_name == "ivr.incidents.jobs.settle" and j.args[0]["caller"] == CALLER for j in jobs)
    assert due.waiting(r, now) == (0, 0.0)


def test_a_mark_claimed_by_a_pump_that_died_is_claimed_again_after_the_lease(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    now = AT.timestamp()
    member = _mark(r, hotline, "CA" + "a" * 32, "e1", AT)
    assert due.claim(r, now) == [member.encode()]      # ...and that pump is gone before enqueueing
    assert due.claim(r, now + due.LEASE - 1) == []     # leased: no other pump takes it
    assert due.pump_once(r, now + due.LEASE) == 1 and queue(r).count == 1


def test_a_batch_larger_than_one_claim_is_drained_in_one_pump(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    for i in range(due.BATCH + 7):
        _mark(r, hotline, f"CA{i:032d}", "e", AT)
    assert due.pump_once(r, AT.timestamp()) == due.BATCH + 7 and r.zcard(keys.settle_due()) == 0


def test_the_mark_is_written_only_with_a_new_event(voice_app, redis_url):
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    store = app.state.store
    ev = _ev("end", call_status="completed")
    marked = follow_up(ev, keys.settle_due(), AT.timestamp(), "m1")
    assert store.add(marked, 3) is True
    assert store.add(follow_up(ev, keys.settle_due(), AT.timestamp(), "m2"), 3) is False   # a repeat
    assert r.zrange(keys.settle_due(), 0, -1) == [b"m1"]
    logged = [json.loads(x) for x in r.lrange(keys.call_events(ev["sid"]), 0, -1)]
    assert logged == [ev] and FOLLOW not in logged[0]   # the mark is not part of the call's log


def test_a_missed_call_leaves_marks_and_no_job_until_the_pump(voice_app, redis_url):
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    call = missed_into_voicemail(app)
    marks = [json.loads(m) for m in r.zrange(keys.settle_due(), 0, -1)]
    assert marks and {m["sid"] for m in marks} == {call.sid} and queue(r).count == 0
    assert all(m["caller"] == call.caller for m in marks)
    assert due.pump_once(r, (OFFICE + dt.timedelta(hours=1)).timestamp()) == len(marks)
    assert queue(r).count == len(marks)


def test_an_outcome_spooled_without_a_mark_by_an_older_version_gets_it_when_replayed(voice_app, redis_url):
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    ev = event("CA" + "7" * 32, LINE, "outcome", "dial:0", AT, outcome="no_answer", detail="end number")
    app.state.store.spool.append({**ev, "_ttl_days": 3, "_index_ts": None})   # as spooled before marks
    assert app.state.store.flush() == 1
    [member] = r.zrange(keys.settle_due(), 0, -1)
    snap, sid, final = due.job_of(member)
    assert sid == ev["sid"] and not final and snap["line"] == LINE and snap["caller"] == ""


def test_a_snapshot_is_made_again_for_a_reloaded_hotline_and_keeps_no_old_one_alive():
    import gc
    import weakref

    first = notify_config().lines()[0]
    ev = _ev("end", call_status="completed")
    assert due.mark(first, ev, AT, CALLER, "") is not None
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None
    again = notify_config().lines()[0]
    assert due.job_of(due.mark(again, ev, AT, CALLER, "")[2])[0] == json.loads(json.dumps(snapshot(again, CALLER, "")))


def test_a_mark_that_is_not_text_is_dropped_and_the_next_is_enqueued(redis_url):
    r = client(redis_url)
    hotline = notify_config().lines()[0]
    r.zadd(keys.settle_due(), {b"\xff\xfe not utf-8": AT.timestamp() - 1})
    _mark(r, hotline, "CA" + "a" * 32, "e1", AT)
    assert due.pump_once(r, AT.timestamp()) == 1 and r.zcard(keys.settle_due()) == 0


def test_the_pump_outlives_any_error_and_goes_on_with_later_marks(redis_url, monkeypatch):
    import threading
    import time

    r = client(redis_url)
    hotline = notify_config().lines()[0]
    calls = []
    real = due.pump_once

    def flaky(redis, now=None):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("something no one foresaw")
        return real(redis, AT.timestamp())

    monkeypatch.setattr(due, "pump_once", flaky)
    stop = threading.Event()
    thread = threading.Thread(target=due.run_pump, args=(r, stop, 0.01), daemon=True)
    thread.start()
    try:
        _mark(r, hotline, "CA" + "b" * 32, "e1", AT)
        deadline = time.monotonic() + 10
        while queue(r).count == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert thread.is_alive() and queue(r).count == 1
    finally:
        stop.set()
        thread.join(5)


def test_the_workers_pump_connection_gives_up_on_a_silent_redis():
    from ivr.cli.worker import pump_client

    pool = pump_client("redis://127.0.0.1:6399/0").connection_pool.connection_kwargs
    assert 0 < pool["socket_timeout"] <= 30 and 0 < pool["socket_connect_timeout"] <= 30


def _old_member(ev: dict, final: bool, caller: str, name: str, snap: str) -> str:
    """The mark's member as it was written before it carried its JSON text."""
    return (f'{{"sid":{json.dumps(ev["sid"])},"event":{json.dumps(ev["id"])},"final":{"true" if final else "false"},'
            f'"caller":{json.dumps(caller)},"caller_name":{json.dumps(name, ensure_ascii=False)},'
            f'"snap":{snap}}}')


def test_a_marks_member_is_the_text_it_was_and_carries_its_json_literal():
    from ivr.calls.event_json import ENCODER, EncodedStr
    from ivr.calls.journal import journal_line, spooled_form
    from ivr.config.load import load_config
    from ivr.incidents.due import _snapshots, mark

    hotline = load_config(None).lines()[0]
    at = dt.datetime(2026, 12, 24, 22, 0, tzinfo=dt.timezone.utc)
    sites = hotline.all_sites()
    for caller in ["", "+4534412350"] + [site.number for site in sites[:3]]:
        ev = {"sid": "CA" + "7" * 32, "id": "end:end", "type": "end", "line": hotline.line, "at": "x"}
        key, due_at, member = mark(hotline, ev, at, caller, "https://hotline.example.org")
        snap, names, _ = _snapshots.get("https://hotline.example.org", None, hotline)
        assert type(member) is EncodedStr
        assert str(member) == _old_member(ev, False, caller, names.get(caller, ""), snap)
        assert member.json == ENCODER.encode(str(member))
        follow = [key, due_at, member]
        line = journal_line('{"id":"end:end"}', 90, None, follow)
        assert line == journal_line('{"id":"end:end"}', 90, None, [key, due_at, str(member)])
        assert spooled_form(line)["_follow"] == [key, due_at, str(member)]
