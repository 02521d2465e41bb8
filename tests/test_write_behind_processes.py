"""Write-behind on real processes: a process killed before its flusher wrote leaves its journal,
which another process moves into the spool and so into Redis; gunicorn's workers write what waits
and remove their journals when stopped; killed workers lose no answered webhook's events."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from ivr.calls.gate import gated_client
from ivr.calls.journal import adopt_orphans
from ivr.calls.spool import Spool
from ivr.calls.store import CallStore
from ivr.config import load_config
from tests.support.gunicorn import Gunicorn
from tests.support.redis_server import RedisServer, free_port
from tests.support.rq_workers import wait_until
from tests.support.web_burst import TOKEN, Timed, missing_from_record, play_call

ROOT = Path(__file__).resolve().parents[1]
BRONDBY = ROOT / "examples" / "brondby.yaml"

# A process whose flusher never gets its batch written (its write waits for ever).
CHILD = """
import datetime as dt, sys, threading, time
from ivr.calls.behind import WriteBehind
from ivr.calls.events import event
from ivr.calls.journal import Journal
at = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.timezone.utc)
wb = WriteBehind(lambda items, texts: threading.Event().wait(), Journal(sys.argv[1]))
wb.submit([(event("CAdead1", "+4570112230", "start", "1", at, **{"from": "+4534412350"}), 3, at.timestamp()),
           (event("CAdead1", "+4570112230", "end", "1", at, status="completed"), 3, None)])
wb.submit([(event("CAdead2", "+4570112230", "start", "1", at), 3, at.timestamp())])
print("journaled", flush=True)
time.sleep(120)
"""


def test_a_killed_processs_journal_is_adopted_into_the_spool_and_replayed_into_redis(redis_url, tmp_path):
    spool = Spool(tmp_path / "spool")
    journal = tmp_path / "spool.journal"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(journal)], cwd=ROOT, stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True)
    try:
        assert child.stdout.readline().strip() == "journaled"
        assert adopt_orphans(journal, spool) == 0          # its process lives: left alone
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    client = gated_client(redis_url, pause=0.0)
    client.delete("hotline:call:CAdead1:events", "hotline:call:CAdead1:seen",
                  "hotline:call:CAdead2:events", "hotline:call:CAdead2:seen")
    store = CallStore(client, spool, pause=0.0)
    replayed = []
    store.on_replayed = lambda ev: replayed.append(ev["id"])
    assert store.adopt_orphans() == 3
    assert not any(journal.iterdir())
    assert store.flush() == 3
    assert [json.loads(raw)["id"] for raw in client.lrange("hotline:call:CAdead1:events", 0, -1)] == ["start:1", "end:1"]
    assert client.llen("hotline:call:CAdead2:events") == 1
    assert sorted(replayed) == ["end:1", "start:1", "start:1"]
    assert client.zscore("hotline:calls:+4570112230", "CAdead1") is not None
    store.behind.close(5)


def _env(redis_url: str, port: int, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(REDIS_URL=redis_url, TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               HOTLINE_CONFIG=str(BRONDBY), HOTLINE_SPOOL_DIR=str(tmp_path / "spool"),
               HOTLINE_LAST_GOOD_DIR=str(tmp_path / "last-good"))
    return env


def _complete(client: redis.Redis, played) -> list[str]:
    """Return what the call log lacks for each played call ([] when every record is complete)."""
    from ivr.calls.events import fold

    gaps = []
    for call in played:
        events = [json.loads(raw) for raw in client.lrange(f"hotline:call:{call.sid}:events", 0, -1)]
        gaps += [f"{call.sid}: {gap}" for gap in missing_from_record(call, fold(call.sid, events) if events else None)]
    return gaps


def test_stopped_workers_write_what_waits_and_remove_their_journals(tmp_path):
    hotline = load_config(BRONDBY).lines()[0]
    with RedisServer() as server:
        port = free_port()
        web = Gunicorn(_env(server.url, port, tmp_path), tmp_path / "gunicorn.log", port).start()
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                played = list(pool.map(lambda _: play_call(Timed(), web.url, hotline.line), range(16)))
            assert not [p.error for p in played if p.error]
            journals = [p for p in (tmp_path / "spool.journal").iterdir() if p.suffix == ".log"]
            assert 1 <= len(journals) <= 2            # one per worker that took a webhook
        finally:
            web.stop()
        assert [p.name for p in (tmp_path / "spool.journal").iterdir()] == [], web.log(3000)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert _complete(client, played) == []


def test_workers_killed_while_redis_hangs_lose_no_answered_webhooks_events(tmp_path):
    hotline = load_config(BRONDBY).lines()[0]
    with RedisServer() as server:
        port = free_port()
        web = Gunicorn(_env(server.url, port, tmp_path), tmp_path / "gunicorn.log", port).start()
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:   # both workers warm
                list(pool.map(lambda _: play_call(Timed(), web.url, hotline.line), range(8)))
            server.freeze()
            try:
                with ThreadPoolExecutor(max_workers=8) as pool:
                    played = list(pool.map(lambda _: play_call(Timed(), web.url, hotline.line), range(8)))
                for pid in web.worker_pids():   # at once: what their flushers hold is journaled only
                    os.kill(pid, signal.SIGKILL)
            finally:
                server.thaw()
            assert not [p.error for p in played if p.error]
            client = redis.Redis.from_url(server.url, decode_responses=True)
            # gunicorn starts new workers; theirs adopt the journals, and the spool is flushed.
            wait_until(lambda: _complete(client, played) == [], 60, message="every played call's record complete")
        finally:
            web.stop()
