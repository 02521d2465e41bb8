"""Redis round trips per webhook: a webhook's call events are written with one script call (behind
it, by the process's flusher, except when reaching a service), and a call's events are read from
Redis at most once per webhook; what Redis does not take is spooled."""
from __future__ import annotations

import datetime as dt
import threading

import redis

from ivr.calls import gate
from ivr.calls.events import event

EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone.utc)  # network: the screened IT contacts
HANDSHAKE = {"HELLO", "CLIENT", "AUTH", "SELECT"}


def _count_commands(monkeypatch, behind: list[str] | None = None) -> list[tuple[str, str]]:
    """Return a list that collects (command, path placeholder) of Redis commands this thread sends
    one at a time on a connection (a pipeline's commands go together and are not listed). The
    write-behind flusher's commands go to `behind`, when given."""
    seen: list[tuple[str, str]] = []
    me = threading.get_ident()
    original = redis.connection.AbstractConnection.send_command

    def counted(self, *args, **kwargs):
        # A new connection's handshake (HELLO, CLIENT SETINFO...) is connection set-up, not the
        # webhook's: which request first needs a second connection depends on other threads.
        if threading.get_ident() == me and str(args[0]).upper() not in HANDSHAKE:
            seen.append((str(args[0]), ""))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", counted)
    packed = gate.pack_command     # the gate's run_command packs its command itself

    def counted_packing(conn, name, args):
        if threading.get_ident() == me:
            seen.append((str(name), ""))
        elif behind is not None and threading.current_thread().name == "hotline-write-behind":
            behind.append(str(name))
        return packed(conn, name, args)

    monkeypatch.setattr(gate, "pack_command", counted_packing)
    return seen


def test_every_webhook_of_a_screened_escalation_makes_one_round_trip_or_reads_once_first(voice_app, monkeypatch):
    app = voice_app(at=EVENING)
    app.call().start()  # the first use loads the script into Redis (one more command, once)
    behind: list[str] = []
    seen = _count_commands(monkeypatch, behind)
    requests: list[tuple[str, list[str]]] = []
    written_behind: list[list[str]] = []
    call = app.call()

    def post(url, params, headers):
        seen.clear()
        behind.clear()
        answer = app.post(url, params, headers)   # returns once the write-behind wrote its events
        requests.append((url.split("?")[0].split("/", 3)[-1], [c for c, _ in seen]))
        written_behind.append(list(behind))
        return answer

    call.post = post
    call.start()
    call.press("7")
    call.press("2")
    assert call.turn.kind == "dial" and call.turn.numbers[0][1]  # screened
    call.ring("decline")
    call.ring("no-answer")
    call.hang_up()
    assert [path for path, _ in requests] == ["voice", "voice/menu", "voice/menu", "voice/screen",
                                              "voice/screen/answer", "voice/dial", "voice/dial", "voice/status"]
    # A webhook's events are written behind, with one script call (the flusher's, here one per
    # webhook as they come one at a time); the whisper writes nothing. The status callback's write
    # also brings the call's log back for the metrics count (it folds the finished record) and
    # marks the call to be settled (its incident). A dial result decides its chain again (the
    # config has not changed) and reads the log only when the callee answered: had the screened
    # callee pressed 1? (declined: the first dial; not answered: the second). Nothing else waits
    # for Redis.
    expected = [[], [], [], [], [], ["LRANGE"], [], []]
    assert [cmds for _, cmds in requests] == expected, requests
    assert written_behind == [["EVALSHA"], ["EVALSHA"], ["EVALSHA"], [], ["EVALSHA"], ["EVALSHA"], ["EVALSHA"],
                              ["EVALSHA"]], written_behind
    record = app.record(call.sid)
    assert [e["result"] for e in record["entries"]] == ["invalid", "ok"]
    assert record["service"] == "network" and len(record["attempts"]) == 2
    assert record["ended_at"] is not None


def test_a_webhook_whose_batch_redis_refuses_spools_every_event(voice_app, redis_server):
    app = voice_app(at=EVENING)
    call = app.call()
    call.start()
    redis_server.stop()
    try:
        call.press("2")   # the entry and the frozen decision: both spooled
        spooled = {e["type"] for e in app.state.store.spool.events(call.sid)}
        assert {"entry", "service"} <= spooled
        assert app.record(call.sid)["service"] == "network"
    finally:
        redis_server.start()
    assert app.state.store.flush() >= 2
    record = app.record(call.sid)
    assert record["service"] == "network" and record["started_at"] is not None
    assert not app.state.store.spool.events(call.sid)


def test_a_batch_writes_all_its_events_in_one_call_and_knows_duplicates(voice_app):
    store = voice_app().state.store
    sid = "CA" + "5" * 32
    store.add(event(sid, "+4570112230", "start", "start", EVENING), 7, EVENING.timestamp())
    store.begin_batch()
    try:
        assert store.add(event(sid, "+4570112230", "entry", "0", EVENING), 7)
        assert not store.add(event(sid, "+4570112230", "entry", "0", EVENING), 7)  # already waiting
        assert store.add(event(sid, "+4570112230", "start", "start", EVENING), 7)  # in Redis: known at commit
        assert [e["type"] for e in store.events(sid)] == ["start", "entry", "start"]  # Redis + waiting
        written = store.commit_batch()
        assert [(ev["type"], added) for ev, added in written] == [("entry", True), ("start", False)]
    finally:
        store.end_batch()
    assert [e["type"] for e in store.events(sid)] == ["start", "entry"]


def test_a_repeated_service_post_decides_for_its_moment_and_the_call_follows_the_newest(voice_app):
    # Twilio posts a key again only when it did not get the answer to the first post: the repeat's
    # answer is the one the call follows, so the record, the console and the dial results read the
    # newest decision.
    app = voice_app(at=EVENING)
    call = app.call()
    call.start()
    url = call.turn.action
    first = call.press("2")
    assert [n for n, _ in first.numbers] == ["+4534412345"]  # the IT contacts (evening), screened
    app.clock.at = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)  # office hours: the desk now
    again = call.send(url, call._call_params(Digits="2"))
    fresh = app.call()   # a new call at this moment
    fresh.start()
    assert again.body != first.body and [n for n, _ in again.numbers] == [n for n, _ in fresh.press("2").numbers]
    services = [e for e in app.state.store.events(call.sid) if e["type"] == "service"]
    assert [e["decision"]["target"] for e in services] == ["it_contacts", services[1]["decision"]["target"]]
    assert services[1]["decision"]["target"] != "it_contacts"
    record = app.record(call.sid)
    assert record["decision"] == services[1]["decision"] and record["route"] == services[1]["decision"]["route"]
    assert app.state.store.decision(call.sid, record["line"]) == services[1]["decision"]
    # The same post again within the same second adds nothing.
    call.send(url, call._call_params(Digits="2"))
    assert len([e for e in app.state.store.events(call.sid) if e["type"] == "service"]) == 2


def test_outcome_hooks_run_after_the_write_and_once_for_a_repeated_callback(voice_app):
    # A hook (the incidents module queues a job that reads the call log) must find its event
    # already in Redis, and Twilio repeating the status callback must not run it again.
    app = voice_app(at=EVENING)
    seen: list[tuple[str, bool]] = []

    def hook(hotline, sid, kind, data, redis_client, now):
        if kind == "end":
            logged = [e for e in app.state.store.events(sid) if e.get("type") == "end"]
            seen.append((sid, bool(logged)))

    app.app.extensions["hotline.outcome_hooks"].append(hook)
    call = app.call()
    call.start()
    call.hang_up()
    call.hang_up()
    assert seen == [(call.sid, True)]


def test_a_read_while_the_spool_is_flushed_sees_the_event_in_redis_or_the_spool(voice_app, monkeypatch):
    # The flusher writes a spooled event to Redis, then deletes its file: a reader that asked
    # Redis first and the spool after could find it in neither.
    import ivr.calls.store as store_module

    store = voice_app().state.store
    sid = "CA" + "8" * 32
    ev = event(sid, "+4570112230", "start", "start", EVENING)
    store.spool.append({**ev, "_ttl_days": 3, "_index_ts": None})
    real = store_module.run_command

    def read_then_flush(client, *args):
        found = real(client, *args)
        store.flush()   # the flusher moves the event into Redis just after this read
        return found

    monkeypatch.setattr(store_module, "run_command", read_then_flush)
    assert [e["id"] for e in store.events(sid)] == [ev["id"]]
