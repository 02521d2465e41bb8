"""Declare and restore (service and CLI), timed escalation with real workers and the scheduler."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from ivr.cli import main
from ivr.config import load_config
from ivr.outages import service
from ivr.outages.jobs import escalate
from ivr.outages.store import OutageStore
from ivr.sms.blast import BlastStore
from ivr.sms.jobs import QUEUE
from tests.sms_helpers import PUBLIC, all_done, client
from tests.support.rq_workers import WorkerPool, wait_until, worker_env

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
DRIFTVAGT = "+4538648888"
T0 = dt.datetime(2026, 11, 23, 8, 12, tzinfo=dt.timezone.utc)  # 09:12 in Copenhagen


@pytest.fixture
def env(redis_url, fake_twilio, monkeypatch):
    values = worker_env(redis_url, fake_twilio, PUBLIC_BASE_URL=PUBLIC, TWILIO_FROM_NUMBER="+4570112230",
                        HOTLINE_SMS_WATCH_SECONDS="1", HOTLINE_SMS_LEASE_SECONDS="3")
    for k, v in values.items():
        if k.startswith(("TWILIO_", "HOTLINE_", "REDIS_", "PUBLIC_")):
            monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def hotline():
    return load_config(BRONDBY).lines()[0]


def test_declare_blasts_the_sites_once_and_a_second_declare_sends_nothing(env, redis_url, hotline, fake_twilio, tmp_path):
    r = client(redis_url)
    first = service.declare(r, hotline, "nexus", "KMD er underrettet.", "test", T0)
    again = service.declare(r, hotline, "nexus", "igen", "test", T0 + dt.timedelta(minutes=5))
    assert first.changed and first.blasts == ("outage-1-down",)
    assert (again.changed, again.blasts, again.outage.id, again.outage.message) == (False, (), "1", "KMD er underrettet.")
    with WorkerPool(1, env, tmp_path) as pool:
        wait_until(lambda: len(fake_twilio.messages) >= 9, 20, message="9 messages\n" + pool.logs())
    sites = [s.number for s in hotline.all_sites()]
    assert Counter(m["to"] for m in fake_twilio.messages) == Counter(sites)
    body = fake_twilio.messages[0]["body"]
    assert body.startswith("NEDBRUD: Nexus er nede siden kl. 09:12. KMD er underrettet. Følg nødproceduren.")


def test_restore_texts_everyone_told_and_a_second_restore_is_refused(env, redis_url, hotline, fake_twilio, tmp_path):
    r = client(redis_url)
    service.declare(r, hotline, "network", "", "test", T0)
    result = service.restore(r, hotline, "network", "test", T0 + dt.timedelta(minutes=47))
    assert result.outage.state.value == "restored" and result.blasts == ("outage-1-restored",)
    with pytest.raises(service.OutageError, match="no open outage of network"):
        service.restore(r, hotline, "network", "test", T0 + dt.timedelta(minutes=48))
    with WorkerPool(1, env, tmp_path) as pool:
        wait_until(lambda: len(fake_twilio.messages) >= 18, 20, message="18 messages\n" + pool.logs())
    restored = [m for m in fake_twilio.messages if m["body"].startswith("Netværket virker igen")]
    assert len(restored) == 9
    assert restored[0]["body"].startswith("Netværket virker igen fra kl. 09:59 (nede siden kl. 09:12).")
    assert not any(m["to"] == DRIFTVAGT for m in fake_twilio.messages)  # never told it was down


def test_unknown_system_and_missing_sender_are_refused(env, redis_url, hotline, monkeypatch):
    r = client(redis_url)
    with pytest.raises(service.OutageError, match="unknown system 'fax'"):
        service.declare(r, hotline, "fax", "", "test", T0)
    monkeypatch.delenv("TWILIO_FROM_NUMBER")
    with pytest.raises(service.OutageError, match="no SMS sender"):
        service.declare(r, hotline, "nexus", "", "test", T0)
    assert OutageStore(r).list(hotline.line) == []


def _escalation_job(r, oid: str, step: int = 0):
    registry = ScheduledJobRegistry(queue=Queue(QUEUE, connection=r))
    return [j for j in registry.get_job_ids() if j == service.escalation_job_id(oid, step)]


def test_escalation_fires_once_when_due_and_the_driftvagt_hears_of_the_restore(env, redis_url, hotline, fake_twilio, tmp_path):
    r = client(redis_url)
    now = dt.datetime.now(dt.timezone.utc)
    oid = service.declare(r, hotline, "nexus", "", "test", now).outage.id
    registry = ScheduledJobRegistry(queue=Queue(QUEUE, connection=r))
    (job_id,) = _escalation_job(r, oid)
    due = registry.get_scheduled_time(job_id)
    assert abs((due - now).total_seconds() - 120 * 60) < 2
    with WorkerPool(2, env, tmp_path) as pool:
        wait_until(lambda: len(fake_twilio.messages) >= 9, 20, message="down blast")
        assert not any(m["to"] == DRIFTVAGT for m in fake_twilio.messages)
        # Two hours pass: move the scheduled job to now; several workers and an extra run race.
        r.zadd(registry.key, {job_id: int(now.timestamp()) - 1})
        Queue(QUEUE, connection=r).enqueue(escalate, oid, 0)
        Queue(QUEUE, connection=r).enqueue(escalate, oid, 0)
        wait_until(lambda: any(m["to"] == DRIFTVAGT for m in fake_twilio.messages), 20,
                   message="escalation\n" + pool.logs())
        wait_until(lambda: r.llen("rq:queue:sms") == 0 and not _escalation_job(r, oid), 20, message="jobs ran")
        service.restore(r, hotline, "nexus", "test", now + dt.timedelta(minutes=130))
        wait_until(lambda: len(fake_twilio.messages) >= 9 + 1 + 9 + 1, 20, message="restore blasts\n" + pool.logs())
    to_driftvagt = [m["body"] for m in fake_twilio.messages if m["to"] == DRIFTVAGT]
    assert len(to_driftvagt) == 2
    assert "har været nede i over 2 timer" in to_driftvagt[0] and "virker igen" in to_driftvagt[1]
    assert 0 in OutageStore(r).get(oid).fired


def test_restore_before_the_escalation_cancels_it(env, redis_url, hotline):
    r = client(redis_url)
    oid = service.declare(r, hotline, "nexus", "", "test", dt.datetime.now(dt.timezone.utc)).outage.id
    assert _escalation_job(r, oid)
    service.restore(r, hotline, "nexus", "test", dt.datetime.now(dt.timezone.utc))
    assert not _escalation_job(r, oid)
    assert escalate(oid, 0) == "skipped"   # even if it ran anyway
    assert BlastStore(r).get(service.blast_id(oid, service.BlastKind.ESCALATION, 0)) is None


def test_cli_declare_list_show_and_restore(env, redis_url, fake_twilio, tmp_path, capsys):
    args = ["--config", str(BRONDBY), "--line", "4570112230", "--system", "nexus"]
    assert main(["outage", "declare", *args, "--message", "Ring KMD", "--json"]) == 0
    declared = json.loads(capsys.readouterr().out)
    assert (declared["id"], declared["state"], declared["changed"], declared["line"]) == ("1", "open", True, "+4570112230")
    assert main(["outage", "declare", *args]) == 0
    assert "already open" in capsys.readouterr().out
    with WorkerPool(1, env, tmp_path) as pool:
        # Done means every SID is recorded, not just sent: the fake records a message before it
        # answers, and stopping the worker in between would lose the last SID (show asserts them).
        wait_until(all_done(redis_url, "outage-1-down"), 20, message=lambda: "blast done\n" + pool.logs())
    assert main(["outage", "list", "--config", str(BRONDBY), "--open", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [o["id"] for o in listed["outages"]] == ["1"]
    assert main(["outage", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    (blast,) = shown["blasts"]
    sids = {m["to"]: m["sid"] for m in fake_twilio.messages}
    assert {x["to"]: x["sid"] for x in blast["recipients"]} == sids
    assert {x["status"] for x in blast["recipients"]} == {"queued"}
    assert main(["outage", "restore", *args]) == 0
    assert "restored" in capsys.readouterr().out
    assert main(["outage", "restore", *args]) == 1
    assert "no open outage" in capsys.readouterr().err
    assert main(["outage", "show", "99"]) == 1


def test_cli_hash_pin_reads_stdin(monkeypatch, capsys):
    import io

    from ivr.outages import pins

    monkeypatch.setattr("sys.stdin", io.StringIO("97531\n"))
    assert main(["outage", "hash-pin", "--stdin"]) == 0
    assert pins.check_pin("97531", capsys.readouterr().out.strip())


def test_cli_says_so_when_redis_is_down_and_changes_nothing(monkeypatch, capsys):
    from tests.support.redis_server import free_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    assert main(["outage", "declare", "--config", str(BRONDBY), "--system", "nexus"]) == 1
    assert "cannot reach Redis" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["outage", "list"], ["outage", "show", "1"]])
def test_cli_read_commands_exit_1_when_redis_fails_after_the_ping(argv, env, redis_url, monkeypatch, capsys):
    import redis

    def broken(*_args, **_kwargs):
        raise redis.ConnectionError("connection reset")

    monkeypatch.setattr(OutageStore, "list", broken)
    monkeypatch.setattr(OutageStore, "get", broken)
    assert main(argv + ["--config", str(BRONDBY)]) == 1
    assert "Redis failed (connection reset)" in capsys.readouterr().err


def test_cli_show_in_text_lists_each_recipient(env, redis_url, hotline, capsys):
    service.declare(client(redis_url), hotline, "nexus", "", "test", T0)
    assert main(["outage", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("outage 1: nexus on +4570112230, open")
    assert "blast outage-1-down: 0 sent, 0 failed, 9 to go" in out
    assert out.count("pending") == 9
