"""Bad input never yields a 5xx: signatures, unknown numbers and CallSids, junk Digits, repeats,
failing extensions, a config reload mid-call, and Redis going away in the middle of a call."""
from __future__ import annotations

import datetime as dt
import time
import xml.etree.ElementTree as ET

import pytest

from ivr.callsim import sign
from tests.support.voice import AUTH_TOKEN, BASE_URL, TEST_YAML, config_from_text

MONDAY_22 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)
MONDAY_10 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def cfg():
    return config_from_text(TEST_YAML)


def tags(body: str) -> list[str]:
    return [el.tag for el in ET.fromstring(body)]


def signed_post(va, path: str, params: dict, token: str = AUTH_TOKEN, base: str = BASE_URL):
    return va.client.post(path, data=params, headers={"X-Twilio-Signature": sign(token, base + path, params)})


def test_unsigned_wrongly_signed_and_wrong_url_requests_get_403(cfg, voice_app):
    va = voice_app(cfg)
    params = {"CallSid": "CA" + "1" * 32, "To": "+4570112299", "From": "+4534412350"}
    assert va.client.post("/voice", data=params).status_code == 403
    assert signed_post(va, "/voice", params, token="another-token").status_code == 403
    # signed against the URL the request arrived on, not PUBLIC_BASE_URL: refused
    assert signed_post(va, "/voice", params, base="http://localhost").status_code == 403
    # a tampered parameter breaks the signature
    good = sign(AUTH_TOKEN, BASE_URL + "/voice", params)
    tampered = {**params, "From": "+4534412351"}
    assert va.client.post("/voice", data=tampered, headers={"X-Twilio-Signature": good}).status_code == 403
    assert signed_post(va, "/voice", params).status_code == 200


def test_signature_check_off_only_when_asked(cfg, redis_url, tmp_path, caplog):
    from ivr.app import create_app

    app = create_app(cfg, redis_url=redis_url, auth_token=None, public_base_url=None,
                     spool_dir=str(tmp_path), verify_signatures=False)
    with caplog.at_level("WARNING"):
        resp = app.test_client().post("/voice", data={"CallSid": "CA" + "2" * 32, "To": "+4570112299"})
    assert resp.status_code == 200
    assert any("SIGNATURE CHECK IS OFF" in r.getMessage() or "signature check off" in r.getMessage()
               for r in caplog.records)
    strict = create_app(cfg, redis_url=redis_url, auth_token=None, public_base_url=None, spool_dir=str(tmp_path))
    assert strict.test_client().post("/voice", data={"To": "+4570112299"}).status_code == 403


def test_unknown_number_gets_an_apology_and_hang_up(cfg, voice_app):
    va = voice_app(cfg)
    resp = signed_post(va, "/voice", {"CallSid": "CA" + "3" * 32, "To": "+4512345678", "From": "+4534412350"})
    assert resp.status_code == 200
    assert tags(resp.get_data(as_text=True)) == ["Say", "Hangup"]


def test_fallback_url_dials_the_fallback_number_even_without_redis(cfg, voice_app, redis_server):
    va = voice_app(cfg)
    redis_server.stop()
    params = {"CallSid": "CA" + "4" * 32, "To": "+4570112299", "From": "+4534412350", "ErrorCode": "11200"}
    resp = signed_post(va, "/voice/fallback", params)
    assert resp.status_code == 200
    root = ET.fromstring(resp.get_data(as_text=True))
    assert [el.tag for el in root] == ["Say", "Dial", "Say", "Hangup"]
    assert root[1].text == "+4534412361" and root[1].get("callerId") == "+4570112299"
    redis_server.start()


@pytest.mark.parametrize("digits", ["", "0" * 5000, "1; DROP", "١", "12", "#", "**", None])
def test_junk_digits_never_break_the_menu(cfg, voice_app, digits):
    va = voice_app(cfg)
    call = va.call()
    call.start()
    params = call._call_params()
    if digits is not None:
        params["Digits"] = digits
    resp = signed_post(va, "/voice/menu?p=&t=0&n=0", params)
    assert resp.status_code == 200
    assert tags(resp.get_data(as_text=True))[-2:] == ["Gather", "Redirect"]


@pytest.mark.parametrize("query", ["p=9.9.9&t=0&n=0", "p=%00&t=x&n=-1", "p=" + "1." * 300, "t=99999999999"])
def test_malformed_menu_positions_restart_at_the_top(cfg, voice_app, query):
    va = voice_app(cfg)
    call = va.call()
    call.start()
    resp = signed_post(va, f"/voice/menu?{query}", call._call_params(Digits="7"))
    assert resp.status_code == 200
    assert "Gather" in tags(resp.get_data(as_text=True))


def test_unknown_callsid_on_a_dial_callback_decides_again(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    at = int(MONDAY_22.timestamp())
    params = {"CallSid": "CA" + "5" * 32, "To": "+4570112299", "From": "+4534412350", "DialCallStatus": "no-answer"}
    resp = signed_post(va, f"/voice/dial?s=system&i=0&at={at}", params)
    root = ET.fromstring(resp.get_data(as_text=True))
    assert [el.tag for el in root] == ["Say", "Dial"]
    assert [n.text for n in root[1].findall("Number")] == ["+4534412363", "+4534412361"]


@pytest.mark.parametrize("query", ["s=nope&i=0&at=1", "s=system&i=77&at=1", "i=0", "s=system&i=-1&at=zz"])
def test_dial_callbacks_with_garbage_get_the_safe_route(cfg, voice_app, query):
    va = voice_app(cfg, at=MONDAY_22)
    params = {"CallSid": "CA" + "6" * 32, "To": "+4570112299", "DialCallStatus": "completed"}
    resp = signed_post(va, f"/voice/dial?{query}", params)
    assert resp.status_code == 200
    root = ET.fromstring(resp.get_data(as_text=True))
    assert [el.tag for el in root] == ["Say", "Dial", "Say", "Hangup"]
    assert root[1].text == "+4534412361"


def test_repeated_callbacks_do_nothing_twice(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.press("1")
    action = call.turn.action.removeprefix(BASE_URL)
    params = call._call_params(DialCallStatus="no-answer", DialCallSid="CA" + "7" * 32)
    first = signed_post(va, action, params).get_data(as_text=True)
    second = signed_post(va, action, params).get_data(as_text=True)
    assert first == second
    record = va.record(call.sid)
    assert len(record["attempts"]) == 1
    assert len(va.state.redis.lrange(f"hotline:call:{call.sid}:events", 0, -1)) == len(
        set(va.state.redis.smembers(f"hotline:call:{call.sid}:seen")))


def test_an_exception_in_a_view_yields_apology_and_fallback(cfg, voice_app, monkeypatch):
    from ivr.voice import minute_decisions

    def boom(*args, **kwargs):
        raise RuntimeError("routing exploded")

    monkeypatch.setattr(minute_decisions, "decide", boom)
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    turn = call.press("1")
    assert [v.tag for v in turn.root] == ["Say", "Dial", "Say", "Hangup"]
    assert turn.says[0].startswith("Beklager")
    assert turn.root[1].text == "+4534412361"
    assert va.record(call.sid)["outcome"] == "error"


def test_announcers_and_service_hooks_are_used_and_failures_ignored(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_10)
    seen = []

    def announcer(hotline, redis, now):
        seen.append((hotline.line, redis is not None, now))
        return ["Nexus er meldt nede siden kl. 9."]

    def broken(*args):
        raise ValueError("outage store unavailable")

    va.app.extensions["hotline.announcers"].extend([broken, announcer])
    va.app.extensions["hotline.service_hooks"].extend([broken, lambda h, s, sid, r, now: {"outage_id": "o-1"}])
    call = va.call()
    turn = call.start()
    assert turn.says[0] == "Nexus er meldt nede siden kl. 9."
    assert seen == [("+4570112299", True, MONDAY_10)]
    call.press("1")
    record = va.record(call.sid)
    assert record["extra"] == {"outage_id": "o-1"}
    assert record["announced"] == ["Nexus er meldt nede siden kl. 9."]


def test_a_config_reload_mid_call_does_not_change_the_chain(cfg, voice_app):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.press("1")
    changed = config_from_text(TEST_YAML.replace('call: [tech2, duty], timeout: 40', 'call: [desk], timeout: 40'))
    va.state.config = changed
    turn = call.ring("no-answer")
    assert [n for n, _ in turn.numbers] == ["+4534412363", "+4534412361"]
    assert va.record(call.sid)["decision"]["config_version"] == cfg.version != changed.version


def test_redis_stopped_mid_call_the_call_goes_on_and_the_record_arrives_later(cfg, voice_app, redis_server):
    va = voice_app(cfg, at=MONDAY_22)
    call = va.call()
    call.start()
    call.press("1")
    redis_server.command("SAVE")   # production Redis persists; the test server only on request
    try:
        redis_server.stop()
        turn = call.ring("decline")                 # screened step, nobody pressed 1 -> step 2
        assert [n for n, _ in turn.numbers] == ["+4534412363", "+4534412361"]
        turn = call.ring("no-answer")               # step 2 -> the exhausted dial
        assert turn.numbers == [("+4534412361", None)]
        turn = call.ring("accept")
        assert [v.tag for v in turn.root] == ["Hangup"]
        assert list(va.state.store.spool.dir.glob("*")), "events must be spooled while Redis is down"
        redis_server.start()
        call.hang_up()                              # Redis answers: the flusher thread replays the spool
        deadline = time.monotonic() + 10
        while list(va.state.store.spool.dir.glob("*")) and time.monotonic() < deadline:
            time.sleep(0.05)                        # .jsonl waiting, or .flushing being replayed
        assert not list(va.state.store.spool.dir.glob("*"))
        raw = va.state.redis.lrange(f"hotline:call:{call.sid}:events", 0, -1)
        assert raw, "the record is in Redis after the flush"
        record = va.record(call.sid)
        assert record["outcome"] == "answered"
        assert [a["step"] for a in record["attempts"]] == [0, 1, 2]
        assert record["accepted_by"] == "+4534412361"
        assert record["from"] == "+4534412350" and record["keys"] == ["1"]
    finally:
        redis_server.start()
        redis_server.flushall()
        redis_server.command("SAVE")   # leave an empty dump behind for later restarts


def test_a_repeated_service_post_runs_the_hooks_again_and_its_decision_and_extras_stand(cfg, voice_app):
    # Twilio repeats a post only when it did not get the answer to the first: the repeat decides
    # for its own moment (its answer is the one the call follows), the service hooks run again
    # (they must be idempotent), and the record follows the newest decision and its extras.
    va = voice_app(cfg, at=MONDAY_10)
    calls = []
    va.app.extensions["hotline.service_hooks"].append(
        lambda h, s, sid, r, now: calls.append(sid) or {"n": len(calls)})
    call = va.call()
    call.start()
    action = call.turn.action.removeprefix(BASE_URL)
    params = call._call_params(Digits="1")
    first = signed_post(va, action, params).get_data(as_text=True)
    va.clock.at = MONDAY_22                      # later the route is another one
    second = signed_post(va, action, params).get_data(as_text=True)
    assert "+4534412360" in first and "+4534412360" not in second
    assert calls == [call.sid, call.sid]
    services = [e for e in va.state.store.events(call.sid) if e["type"] == "service"]
    assert [e["extra"] for e in services] == [{"n": 1}, {"n": 2}]
    record = va.record(call.sid)
    assert record["decision"] == services[1]["decision"] and record["extra"] == {"n": 2}


def test_a_decision_spooled_while_redis_failed_gives_way_to_a_later_repeats_once_replayed(cfg, voice_app, monkeypatch):
    # Redis fails for the first service post (its decision goes to the spool); Twilio repeats the
    # post before the spool is replayed, with Redis answering again and the route changed by then.
    # The replayed older decision lands after the newer one in Redis: the record still follows
    # the newest by time.
    import redis

    from ivr.calls import store as store_mod

    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    action = call.turn.action.removeprefix(BASE_URL)
    params = call._call_params(Digits="1")
    real, fails = store_mod.CallStore._write_many, [1]

    def blip(self, items, *args, **kwargs):
        if fails and any(ev["type"] == "service" for ev, _, _ in items):
            fails.pop()
            raise redis.ConnectionError("blip")
        return real(self, items, *args, **kwargs)

    monkeypatch.setattr(store_mod.CallStore, "_write_many", blip)
    first = signed_post(va, action, params).get_data(as_text=True)
    assert va.state.store.settle()
    assert va.state.store.spool.pending(), "the first decision went to the spool"
    va.clock.at = MONDAY_22
    second = signed_post(va, action, params).get_data(as_text=True)
    assert va.state.store.settle()
    assert second != first
    assert va.state.store.flush() >= 1
    services = [e for e in va.state.store.events(call.sid) if e["type"] == "service"]
    assert sorted(e["at"] for e in services) == [MONDAY_10.isoformat(), MONDAY_22.isoformat()]
    newest = next(e for e in services if e["at"] == MONDAY_22.isoformat())
    assert va.record(call.sid)["decision"] == newest["decision"]


def test_fallback_dials_report_back_so_a_finished_conversation_is_not_told_nobody_answered(
        cfg, voice_app, redis_server, monkeypatch):
    # <Dial> without action goes on to the next verb also after a conversation, so the caller who
    # just talked to the fallback person would hear "nobody could be reached". Every fallback dial
    # (Twilio's Fallback URL, an error, the menu's last resort) reports to an action instead.
    from ivr.callsim import path_of
    from ivr.voice import minute_decisions

    va = voice_app(cfg, at=MONDAY_22)
    params = {"CallSid": "CA" + "5" * 32, "To": "+4570112299", "From": "+4534412350", "ErrorCode": "11200"}
    dials = [ET.fromstring(signed_post(va, "/voice/fallback", params).get_data(as_text=True)).find("Dial")]
    monkeypatch.setattr(minute_decisions, "decide", lambda *a, **k: 1 / 0)
    call = va.call()
    call.start()
    dials.append(call.press("1").verb)
    monkeypatch.undo()
    call = va.call()
    call.start()
    call.press("2")
    call.press("2")
    call.silence()
    call.silence()
    dials.append(call.press("9#").verb)
    for dial in dials:
        assert dial.tag == "Dial" and dial.text == "+4534412361"
        action = dial.get("action")
        assert action and action.startswith(BASE_URL) and dial.get("method") == "POST"
        done = {**params, "DialCallStatus": "completed", "DialCallDuration": "75"}
        resp = signed_post(va, path_of(action), done)
        assert resp.status_code == 200 and tags(resp.get_data(as_text=True)) == ["Hangup"]
        redis_server.stop()
        resp = signed_post(va, path_of(action), {**params, "DialCallStatus": "no-answer"})
        redis_server.start()
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200 and tags(body) == ["Say", "Hangup"]
        assert "Det lykkedes ikke at få fat i nogen" in body


def test_without_public_base_url_urls_keep_the_mount_prefix(cfg, redis_url, tmp_path):
    # Mounted under a prefix (SCRIPT_NAME), the signature is checked against the arrival URL with
    # its prefix; the URLs we hand to Twilio must keep that prefix too, or the next webhook 404s.
    from ivr.app import create_app

    app = create_app(cfg, redis_url=redis_url, auth_token=AUTH_TOKEN, public_base_url=None,
                     spool_dir=str(tmp_path), verify_signatures=True)
    params = {"CallSid": "CA" + "6" * 32, "To": "+4570112299", "From": "+4534412350"}
    resp = app.test_client().post("/voice", data=params, base_url="http://hotline.internal/ivr",
                                  headers={"X-Twilio-Signature": sign(AUTH_TOKEN, "http://hotline.internal/ivr/voice", params)})
    assert resp.status_code == 200
    gather = ET.fromstring(resp.get_data(as_text=True)).find("Gather")
    assert gather.get("action") == "http://hotline.internal/ivr/voice/menu?p=&t=0&n=0"


def test_a_dial_result_after_a_reload_follows_the_repeated_posts_newest_decision(cfg, voice_app):
    # The first post decides the desk (office hours), its repeat the technicians (evening); the
    # config then changes. The repeat's dial result cannot decide again (another version): it
    # reads the call log, and follows the newest decision, whose answer Twilio acted on.
    from ivr.callsim import parse

    va = voice_app(cfg, at=MONDAY_10)
    call = va.call()
    call.start()
    action = call.turn.action.removeprefix(BASE_URL)
    params = call._call_params(Digits="1")
    signed_post(va, action, params)
    va.clock.at = MONDAY_22
    second = signed_post(va, action, params).get_data(as_text=True)
    call.turns.append(parse(BASE_URL + action, 200, second))
    assert [n for n, _ in call.turn.numbers] == ["+4534412362"]
    va.state.config = config_from_text(TEST_YAML.replace('call: [tech2, duty], timeout: 40',
                                                         'call: [desk], timeout: 40'))
    assert va.state.store.settle()
    turn = call.ring("no-answer")
    assert [n for n, _ in turn.numbers] == ["+4534412363", "+4534412361"]
