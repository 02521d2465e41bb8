"""/metrics under the Procfile's gunicorn line (two workers) and two `hotline worker` processes,
all sharing PROMETHEUS_MULTIPROC_DIR: every scrape, whichever worker answers it, shows the sum."""
from __future__ import annotations

import json
import os
import threading
import urllib.request

from ivr.callsim import CallSim
from ivr.cli.call import http_post
from ivr.sms.jobs import start_blast
from tests.metrics_helpers import AUTH, TOKEN, samples, value
from tests.sms_helpers import all_done, client, make_blast, numbers
from tests.support.gunicorn import Gunicorn
from tests.support.rq_workers import WorkerPool, wait_until, worker_env
from tests.support.voice import AUTH_TOKEN, BASE_URL, CALLER

LINE = "+4570112230"   # the embedded default's line


def scrape(url: str) -> dict:
    req = urllib.request.Request(url + "/metrics", headers=AUTH)
    return samples(urllib.request.urlopen(req, timeout=10).read().decode())


def pids_with_counters(directory) -> set[str]:
    return {p.stem.split("_", 1)[1] for p in directory.glob("counter_*.db")}


def test_metrics_add_up_over_gunicorn_workers_and_rq_workers(redis_url, fake_twilio, tmp_path):
    prom = tmp_path / "prometheus"
    prom.mkdir()
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(prom), "HOTLINE_METRICS_TOKEN": TOKEN}
    web_env = {**shared, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": BASE_URL,
               "HOTLINE_SPOOL_DIR": str(tmp_path / "spool"), "HOTLINE_LOG_FORMAT": "json"}
    with Gunicorn({**os.environ, **web_env}, tmp_path / "web.log") as web:
        # Calls that hang up in the menu: their counts do not depend on the time of day.
        played: list[str] = []

        def one_call() -> None:
            sim = CallSim(lambda url, p, h: http_post(url.replace(BASE_URL, web.url), p, h), LINE, CALLER,
                          AUTH_TOKEN, base_url=BASE_URL)
            sim.start()
            sim.hang_up()
            played.append(sim.sid)

        for _ in range(10):     # until both gunicorn workers have counted something
            threads = [threading.Thread(target=one_call) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            if len(pids_with_counters(prom)) >= 2:
                break
        assert len(pids_with_counters(prom)) >= 2, "the calls all went to one gunicorn worker"

        # SMS sent by RQ work-horses land in the same directory.
        env = worker_env(redis_url, fake_twilio, **shared)
        with WorkerPool(2, env, tmp_path) as pool:
            assert start_blast(client(redis_url), make_blast("mp", 6, rate=50), numbers(6))
            wait_until(all_done(redis_url, "mp"), 30, message=lambda: "blast done\n" + pool.logs())
            calls = len(played)
            # The workers' settle pumps count the ended calls as they claim their end marks.
            wait_until(lambda: value(scrape(web.url), "hotline_calls_total", line=LINE, service="none", route="none",
                                     outcome="hung_up") == calls, 30, message=lambda: "calls counted\n" + pool.logs())

        for _ in range(6):      # several scrapes: each worker may answer; each shows the total
            found = scrape(web.url)
            assert value(found, "hotline_calls_started_total", line=LINE) == calls
            assert value(found, "hotline_calls_total", line=LINE, service="none", route="none",
                         outcome="hung_up") == calls
            assert value(found, "hotline_webhook_duration_seconds_count", endpoint="/voice") == calls
            assert value(found, "hotline_webhook_responses_total", endpoint="/voice/status", status="200") == calls
            assert value(found, "hotline_sms_total", kind="down", result="sent") == 6
            assert value(found, "hotline_redis_up") == 1
        log = web.log()

    lines = [json.loads(x) for x in log.splitlines() if x.startswith('{"event":"webhook"')]
    assert len(lines) == 2 * calls
    assert {x["call_sid"] for x in lines} == set(played)
    assert {x["caller"] for x in lines} == {"+*******350"} and CALLER not in log
