"""`hotline outage resend ID`: recipients that gave up get the blast again, exactly once each,
with real `hotline worker` processes, a real Redis and the fake Twilio."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ivr.cli import main
from ivr.config import load_config
from ivr.outages import service
from ivr.sms.blast import BlastStore
from ivr.sms.resend import resends
from tests.sms_helpers import PUBLIC, client, per_recipient
from tests.support.rq_workers import ROOT, WorkerPool, wait_until, worker_env

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"

DOWN = "outage-1-down"


@pytest.fixture
def env(redis_url, fake_twilio, monkeypatch):
    values = worker_env(redis_url, fake_twilio, PUBLIC_BASE_URL=PUBLIC, TWILIO_FROM_NUMBER="+4570112230",
                        HOTLINE_SMS_WATCH_SECONDS="1", HOTLINE_SMS_LEASE_SECONDS="3",
                        HOTLINE_SMS_MAX_ATTEMPTS="2", HOTLINE_SMS_BACKOFF_SECONDS="0.05",
                        HOTLINE_SMS_BACKOFF_CAP_SECONDS="0.2")
    for k, v in values.items():
        if k.startswith(("TWILIO_", "HOTLINE_", "REDIS_", "PUBLIC_")):
            monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def t0():
    """Declared now: the seed's escalation (after two hours) stays in the future, out of these blasts."""
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def hotline():
    return load_config(BRONDBY).lines()[0]


def settled(r, blast_id: str, sent: int):
    def check() -> bool:
        p = BlastStore(r).progress(blast_id)
        return p["total"] > 0 and p["done"] >= p["total"] and p["sent"] == sent
    return check


def resend_json(*extra: str) -> dict:
    return json.loads(subprocess.run([sys.executable, "-m", "ivr.cli", "outage", "resend", "1", "--json", *extra],
                                     capture_output=True, text=True, check=True, cwd=ROOT).stdout)


def test_recipients_that_gave_up_get_exactly_one_message_after_a_resend(env, redis_url, hotline, fake_twilio,
                                                                         tmp_path, capsys, t0):
    r = client(redis_url)
    sites = [s.number for s in hotline.all_sites()]
    refusing = sites[2:4]
    for number in refusing:   # Twilio keeps saying "too many requests" to these until the retries run out
        fake_twilio.fail_for(number, status=429, code=20429)
    service.declare(r, hotline, "nexus", "", "test", t0)
    with WorkerPool(1, env, tmp_path) as pool:
        wait_until(settled(r, DOWN, len(sites) - 2), 30, message=lambda: "gave up\n" + pool.logs())
        store = BlastStore(r)
        assert [(store.recipient(DOWN, n)["state"], store.recipient(DOWN, n)["error_code"]) for n in refusing] == [
            ("failed", "gave_up")] * 2
        assert per_recipient(fake_twilio) == {n: 1 for n in sites if n not in refusing}
        fake_twilio.clear_faults()

        # two admins at once (two processes): each recipient is queued by one of them only
        procs = [subprocess.Popen([sys.executable, "-m", "ivr.cli", "outage", "resend", "1", "--json",
                                   "--by", f"admin{i}"], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
                 for i in range(2)]
        results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
        assert all(p.returncode == 0 for p in procs)
        queued = [b for res in results for b in res["blasts"] if b["blast"] == DOWN]
        assert sorted(n for b in queued for n in b["numbers"]) == sorted(refusing)
        assert sum(res["queued"] for res in results) == 2

        wait_until(settled(r, DOWN, len(sites)), 30, message=lambda: "resent\n" + pool.logs())
        assert resend_json()["queued"] == 0             # nobody left who gave up: nothing queued
        assert main(["outage", "resend", "1"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "outage 1: 0 recipients that gave up queued again", f"  blast {DOWN}: 0 queued again"]
        wait_until(lambda: r.llen("rq:queue:sms") == 0, 20, message="queue drained")

    assert per_recipient(fake_twilio) == {n: 1 for n in sites}
    assert store.progress(DOWN) == {"total": len(sites), "done": len(sites), "sent": len(sites), "failed": 0}
    resent = [store.recipient(DOWN, n) for n in refusing]
    assert [(x["state"], x["resends"]) for x in resent] == [("sent", "1"), ("sent", "1")]
    log = resends(r, DOWN)
    assert [entry["recipients"] for entry in log] == [2] and log[0]["by"] in ("admin0", "admin1")
    assert store.active() == []


def test_resend_limits_and_refusals(env, redis_url, hotline, capsys, t0):
    r = client(redis_url)
    sites = [s.number for s in hotline.all_sites()]
    service.declare(r, hotline, "nexus", "", "test", t0)
    store = BlastStore(r)
    store.mark_failed(DOWN, sites[0], "gave_up", "no success after 2 attempts")
    store.mark_failed(DOWN, sites[1], "21211", "invalid number")          # permanent: never resent

    assert main(["outage", "resend", "9"]) == 1
    assert capsys.readouterr().err.strip() == "hotline: no outage 9"
    assert main(["outage", "resend", "1", "--blast", "outage-1-restored"]) == 1
    assert "has no blast outage-1-restored (its blasts: outage-1-down)" in capsys.readouterr().err

    assert main(["outage", "resend", "1", "--blast", DOWN, "--json", "--by", "ops"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["by"], out["queued"], out["blasts"][0]["numbers"]) == ("ops", 1, [sites[0]])
    assert store.recipient(DOWN, sites[1])["state"] == "failed"
    assert store.progress(DOWN)["failed"] == 1
    assert Counter(x["state"] for x in store.recipients(DOWN))["pending"] == len(sites) - 1

    # once restored, the "down" text is out of date: not sent again
    store.mark_failed(DOWN, sites[0], "gave_up", "no success after 2 attempts")
    service.restore(r, hotline, "nexus", "test", t0 + dt.timedelta(minutes=30))
    assert main(["outage", "resend", "1", "--json"]) == 0
    blasts = {b["blast"]: b for b in json.loads(capsys.readouterr().out)["blasts"]}
    assert blasts[DOWN]["skipped"] and blasts[DOWN]["queued"] == 0
    assert blasts["outage-1-restored"]["queued"] == 0
    assert main(["outage", "resend", "1", "--blast", DOWN]) == 1
    assert "restored" in capsys.readouterr().err
