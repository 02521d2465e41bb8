"""`hotline probe`: a real test call placed through the Twilio stand-in, which plays it against a
`hotline serve` on a real port (its clock set with --at), checked against `hotline route`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from ivr.cli import main
from ivr.probe.results import last_probe
from tests.support.fake_twilio import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
LINE = "+4570112230"
PROBE_NUMBER = "+4534412399"   # placeholder: the probe's own number
ADMIN = "+4534412398"          # placeholder: the admin texted on failure
AT = "2026-12-24T23:30"        # Christmas Eve night: the IT on-call contacts take network calls
PROBE = f"""
probe:
  callers: ["{PROBE_NUMBER}"]
  keys: "2"
  admins: ["{ADMIN}"]
"""


def config_dir(path: Path, change=lambda text: text) -> Path:
    """Write examples/brondby.yaml with a probe: section (and `change` applied) into `path`."""
    path.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "examples" / "brondby.yaml").read_text(encoding="utf-8") + PROBE
    (path / "brondby.yaml").write_text(change(text), encoding="utf-8")
    return path


@pytest.fixture
def serve(tmp_path, redis_url):
    """A factory: serve(config) starts `hotline serve --at AT` on a free port; returns its URL."""
    procs = []

    def start(config: Path) -> str:
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
               "HOTLINE_SPOOL_DIR": str(tmp_path / f"spool-{port}")}
        env.pop("PUBLIC_BASE_URL", None)
        log = open(tmp_path / f"serve-{port}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--config", str(config), "--port",
                                 str(port), "--at", AT, "--redis-url", redis_url],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).read()
                return url
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("hotline serve did not start: " + (tmp_path / f"serve-{port}.log").read_text())
                time.sleep(0.2)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def twilio_env(monkeypatch, fake_twilio, tmp_path):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TEST_ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake_twilio.base_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "cli-spool"))
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    return fake_twilio


def probe(capsys, config: Path, url: str, redis_url: str, *extra: str) -> tuple[int, str, str]:
    code = main(["probe", "--config", str(config), "--line", LINE, "--url", url, "--redis-url", redis_url,
                 "--wait", "60", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_probe_passes_when_the_app_routes_as_the_config_says(tmp_path, serve, twilio_env, redis_url, capsys):
    config = config_dir(tmp_path / "config")
    url = serve(config)
    code, out, err = probe(capsys, config, url, redis_url, "--json")
    assert (code, err) == (0, ""), out
    [result] = json.loads(out)
    assert result["ok"] and result["differences"] == [] and result["error"] is None
    assert "IT-døgnvagt (jul til nytår)" in result["detail"]

    [created] = twilio_env.calls
    assert created["to"] == LINE and created["from"] == PROBE_NUMBER
    assert created["url"] == url + "/voice" and created["params"]["SendDigits"] == "W2"
    driven = twilio_env.wait_for_call(created["sid"], 10)
    assert driven.errors == []
    assert not any("<Dial" in said for said in driven.said)
    assert [p["url"].split("?")[0] for p in driven.posts] == [url + "/voice", url + "/voice/probe/menu",
                                                               url + "/voice/status"]

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert last_probe(client, LINE)["ok"] is True
    main(["calls", "--config", str(config), "--redis-url", redis_url, "--json"])
    [record] = json.loads(capsys.readouterr().out)
    assert record["outcome"] == "probe" and record["extra"]["probe"] is True
    assert record["keys"] == ["2"] and record["route"] == "on_call" and record["attempts"] == []
    assert record["from"] == PROBE_NUMBER and record["accepted_by"] is None
    assert twilio_env.messages == []  # nobody is texted, nobody rung


def test_the_probe_fails_naming_what_differs_when_the_app_routes_differently(tmp_path, serve, twilio_env,
                                                                             redis_url, capsys):
    config = config_dir(tmp_path / "config")
    # The running app has another number for the first IT contact than the admin's config.
    running = config_dir(tmp_path / "running", lambda t: t.replace('"+45 34 41 23 45"', '"+45 34 41 23 47"'))
    url = serve(running)
    code, out, err = probe(capsys, config, url, redis_url)
    assert code == 1, out + err
    assert out.startswith(f"probe {LINE} FAILED: dial: expected +4534412345 then +4534412346, "
                          "the call had +4534412347 then +4534412346"), out
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    result = last_probe(client, LINE)
    assert result["ok"] is False and result["differences"][0].startswith("dial:")


def test_the_probe_fails_when_the_keys_lead_elsewhere_in_the_running_menu(tmp_path, serve, twilio_env,
                                                                          redis_url, capsys):
    config = config_dir(tmp_path / "config")
    running = config_dir(tmp_path / "running",
                         lambda t: t.replace('"2": {label: Netværk/internet er nede, service: network}',
                                            '"2": {label: Netværk/internet er nede, service: nexus}'))
    assert running.joinpath("brondby.yaml").read_text() != config.joinpath("brondby.yaml").read_text()
    url = serve(running)
    code, out, err = probe(capsys, config, url, redis_url)
    assert code == 1, out + err
    assert "service: expected network, the call had nexus" in out


def test_the_worker_schedules_the_daily_probe_and_a_failed_probe_texts_the_admins(tmp_path, serve, fake_twilio,
                                                                                  redis_url):
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from ivr.probe.jobs import QUEUE, probe_line
    from tests.support.rq_workers import WorkerPool, wait_until, worker_env

    config = config_dir(tmp_path / "config")
    running = config_dir(tmp_path / "running", lambda t: t.replace('"+45 34 41 23 45"', '"+45 34 41 23 47"'))
    url = serve(running)
    env = worker_env(redis_url, fake_twilio, HOTLINE_CONFIG=str(config), PUBLIC_BASE_URL=url,
                     TWILIO_FROM_NUMBER=LINE, HOTLINE_SPOOL_DIR=str(tmp_path / "worker-spool"))
    rq_redis = redis.Redis.from_url(redis_url)
    scheduled = ScheduledJobRegistry(QUEUE, connection=rq_redis)
    logs = tmp_path / "workers"
    logs.mkdir()
    with WorkerPool(1, env, logs) as pool:
        wait_until(lambda: any(j.startswith("probe-4570112230-") for j in scheduled.get_job_ids()), 60,
                   message=lambda: "the daily probe on RQ's schedule\n" + pool.logs())
        Queue(QUEUE, connection=rq_redis).enqueue(probe_line, LINE)  # its time has come
        [sms] = fake_twilio.wait_for_messages(1, timeout=90)
    assert sms["to"] == ADMIN and sms["from"] == LINE
    assert sms["body"].startswith("TEST CALL FAILED Brøndby Ældre og Omsorg – nedbrud (+4570112230): dial: "
                                  "expected +4534412345 then +4534412346, the call had +4534412347")
    [call] = fake_twilio.calls
    assert call["from"] == PROBE_NUMBER and call["url"] == url + "/voice"
    result = last_probe(redis.Redis.from_url(redis_url, decode_responses=True), LINE)
    assert result["ok"] is False and result["logged_sid"]
