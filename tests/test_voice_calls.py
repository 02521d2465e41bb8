"""Whole calls through the signed webhooks for every example config: every service the menu reaches,
every distinct route over a week, escalation through every step to the chain's end."""
from __future__ import annotations

import pytest

from ivr.config.load import load_config
from ivr.voice.texts import text as sentence
from routing import RouteKind, decide
from tests.support.voice import EXAMPLES, sample_moments, service_paths
from tests.support.twiml import assert_dial_step, assert_end, assert_gather



def test_all_six_example_configs_are_driven():
    assert sorted(p.stem for p in EXAMPLES) == [
        "brondby", "indsatsplan", "kmd-support", "lov-hemtjanst", "mammenfri", "orebro"]


def routes_of(hotline):
    """Return {(service, target): (keys, moment, decision)}: one call per distinct route."""
    found = {}
    for keys, service in service_paths(hotline.menu):
        for moment in sample_moments(hotline.tz):
            decision = decide(hotline.plan, service, moment)
            found.setdefault((service, decision.target), (keys, moment, decision))
    return found


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request):
    return load_config(request.param)


def test_every_example_reaches_a_service(example):
    hotline = example.lines()[0]
    assert service_paths(hotline.menu), f"{hotline.source}: no menu path reaches a service"


def test_every_route_escalates_through_every_step_to_its_end(example, voice_app):
    for hotline in example.lines():
        routes = routes_of(hotline)
        assert routes
        for (service, target), (keys, moment, decision) in sorted(routes.items()):
            va = voice_app(example, at=moment)
            call = va.call(hotline.line)
            turn = call.start()
            assert_gather(turn, hotline, hotline.menu)
            for key in keys:
                turn = call.press(key)
            said = " ".join(turn.says)
            sentence_112 = sentence("emergency_112", hotline.language)
            if decision.route is RouteKind.EMERGENCY:
                assert turn.says[0] == sentence_112, f"{service}/{target}: 112 sentence must come first: {turn.says}"
            else:
                assert sentence_112 not in turn.says
            for text in decision.announcements:
                assert text in said
            for index, step in enumerate(decision.steps):
                assert_dial_step(turn, step, decision, index)
                turn = call.ring("decline" if step.screen and decision.route is not RouteKind.EMERGENCY
                                 else "no-answer")
            assert_end(turn, decision)
            if turn.kind == "record":
                turn = call.leave_message()
                assert turn.root[-1].tag == "Hangup"
            elif turn.kind == "dial":
                turn = call.ring("no-answer")
                assert [v.tag for v in turn.root] == ["Say", "Hangup"]
            record = va.record(call.sid)
            assert record["line"] == hotline.line
            assert record["service"] == service
            assert record["route"] == decision.route.value
            assert record["decision"]["config_version"] == hotline.version
            assert [a["step"] for a in record["attempts"]][: len(decision.steps)] == list(range(len(decision.steps)))
            assert all(a["accepted_by"] is None for a in record["attempts"])
            expected = {"voicemail": "voicemail", "dial": "no_answer", "message": "message"}[decision.exhausted.kind.value]
            assert record["outcome"] == expected, (service, target, record)


def test_accepting_each_step_ends_the_escalation(example, voice_app):
    hotline = example.lines()[0]
    for (service, target), (keys, moment, decision) in sorted(routes_of(hotline).items()):
        for index, step in enumerate(decision.steps):
            va = voice_app(example, at=moment)
            call = va.call(hotline.line)
            call.start()
            for key in keys:
                call.press(key)
            for _ in range(index):
                call.ring("no-answer")
            turn = call.ring("accept")
            assert [v.tag for v in turn.root] == ["Hangup"]
            record = va.record(call.sid)
            assert record["outcome"] == "answered"
            assert record["accepted_by"] == (step.numbers[0] if step.screen else ", ".join(step.numbers))
            assert len(record["attempts"]) == index + 1


def test_one_deployment_serves_every_example_by_its_number(redis_url, tmp_path, monkeypatch):
    """create_app() from the environment alone; each call finds its hotline by To."""
    from ivr import create_app
    from ivr.callsim import CallSim, path_of
    from tests.support.twiml import assert_gather
    from tests.support.voice import AUTH_TOKEN, BASE_URL

    examples = EXAMPLES[0].parent
    monkeypatch.setenv("HOTLINE_CONFIG", str(examples))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path))
    app = create_app()
    client = app.test_client()

    def post(url, params, headers):
        resp = client.post(path_of(url), data=params, headers=headers)
        return resp.status_code, resp.get_data(as_text=True)

    config = load_config(examples)
    assert len(config.lines()) == len(EXAMPLES)
    for hotline in config.lines():
        for number in hotline.numbers:
            turn = CallSim(post, number, "+4534412350", AUTH_TOKEN, base_url=BASE_URL).start()
            assert_gather(turn, hotline, hotline.menu)
    assert client.get("/healthz").get_json()["lines"] == len(config.lines())
