"""What the public /healthz tells: ok or degraded with reason codes and counts, never a number
from the config nor the text of a refused config."""
from __future__ import annotations

from tests.support.voice import TEST_YAML, config_from_text

def test_healthz_names_no_numbers_and_reports_degraded_states(voice_app, redis_server):
    va = voice_app(config_from_text(TEST_YAML))
    health = va.client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["reasons"] == ["no_worker"]
    assert health["lines"] == 1 and health["workers"] == 0 and health["spooled_calls"] == 0
    assert "+45" not in va.client.get("/healthz").get_data(as_text=True)

    from rq import Worker

    worker = Worker(["default"], connection=va.state.redis)
    worker.register_birth()
    try:
        assert va.client.get("/healthz").get_json() == {
            "status": "ok", "reasons": [], "lines": 1, "redis": True, "workers": 1, "spooled_calls": 0,
            "config_refused": 0}
        redis_server.stop()
        down = va.client.get("/healthz").get_json()
        assert down["status"] == "degraded" and down["redis"] is False
        assert "redis_unreachable" in down["reasons"]
        call = va.call()
        call.start()                  # spooled while Redis is down
        assert "spool_not_empty" in va.client.get("/healthz").get_json()["reasons"]
    finally:
        redis_server.start()
        worker.register_death()


def test_healthz_counts_a_refused_config_without_its_text(redis_url, tmp_path, monkeypatch):
    from ivr.app import create_app

    live = tmp_path / "live.yaml"
    live.write_text(TEST_YAML, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(live))
    create_app(redis_url=redis_url, auth_token="t", spool_dir=str(tmp_path / "spool"))   # keeps a good copy
    live.write_text(TEST_YAML.replace('"+45 34 41 23 63"', '"+45 34 41 23"'), encoding="utf-8")
    app = create_app(redis_url=redis_url, auth_token="t", spool_dir=str(tmp_path / "spool"))
    resp = app.test_client().get("/healthz")
    health = resp.get_json()
    assert health["status"] == "degraded" and "config_refused" in health["reasons"]
    assert health["config_refused"] == 1
    assert "34 41" not in resp.get_data(as_text=True) and "tech2" not in resp.get_data(as_text=True)


def test_healthz_without_redis_configured_is_degraded(tmp_path):
    cfg = config_from_text(TEST_YAML)
    from ivr.app import create_app

    app = create_app(cfg, redis_url=None, auth_token="t", spool_dir=str(tmp_path / "spool"))
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and health["reasons"] == ["redis_not_configured"]


def test_healthz_leaves_the_call_path_redis_timeouts_as_they_are(voice_app, redis_url):
    """rq's Worker objects raise their connection's socket timeout to minutes: counting workers must
    not do that to the client the webhooks use (a hung Redis would then hold a call for minutes)."""
    import redis
    from rq import Worker

    from ivr.calls import gate

    va = voice_app(config_from_text(TEST_YAML))
    worker = Worker(["default"], connection=redis.Redis.from_url(redis_url))
    worker.register_birth()
    try:
        assert va.client.get("/healthz").get_json()["workers"] == 1
        assert va.state.redis.connection_pool.connection_kwargs["socket_timeout"] == gate.TIMEOUT
    finally:
        worker.register_death()
