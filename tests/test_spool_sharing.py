"""The call-event spool: each deployment has its own directory by default, and processes that
share one directory (gunicorn workers, or two deployments given the same HOTLINE_SPOOL_DIR) never
lose or double an event when they append and flush at the same time."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from ivr import create_app
from ivr.calls import spool as spool_module
from ivr.calls.spool import Spool, default_dir
from ivr.config import load_config
from ivr.config.lastgood import default_dir as last_good_dir
from tests.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
SID = "CA" + "a" * 32


def event(sid: str, n: int) -> dict:
    return {"sid": sid, "id": f"{sid}-{n}", "type": "entry", "n": n}


@pytest.fixture
def state_home(tmp_path, monkeypatch):
    """No HOTLINE_SPOOL_DIR: the default spool lives under a private XDG_STATE_HOME."""
    monkeypatch.delenv("HOTLINE_SPOOL_DIR", raising=False)
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


# -- one directory per deployment ------------------------------------------------------------


def test_default_dir_differs_per_config_source_and_redis(state_home, tmp_path, monkeypatch):
    brondby, orebro = str(EXAMPLES / "brondby.yaml"), str(EXAMPLES / "orebro.yaml")
    dirs = {default_dir(brondby, None), default_dir(orebro, None),
            default_dir(brondby, "redis://127.0.0.1:6379/0"), default_dir(brondby, "redis://127.0.0.1:6379/1"),
            default_dir(None, None)}
    assert len(dirs) == 5
    assert all(d.is_relative_to(state_home / "hotline" / "spool") for d in dirs)
    # the same deployment finds the same directory, however its config path was written
    monkeypatch.chdir(EXAMPLES)
    assert default_dir("brondby.yaml", None) == default_dir(brondby, None)
    # without arguments: the deployment named by the environment
    monkeypatch.setenv("HOTLINE_CONFIG", brondby)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/1")
    assert default_dir() == default_dir(brondby, "redis://127.0.0.1:6379/1")
    # HOTLINE_SPOOL_DIR still wins
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "mine"))
    assert default_dir() == default_dir(orebro, None) == tmp_path / "mine"


def test_two_apps_without_a_spool_setting_do_not_share_a_spool(state_home):
    a = create_app(load_config(EXAMPLES / "brondby.yaml"), redis_url=None, auth_token="t",
                   public_base_url=None, verify_signatures=False)
    b = create_app(load_config(EXAMPLES / "orebro.yaml"), redis_url=None, auth_token="t",
                   public_base_url=None, verify_signatures=False)
    spool_a, spool_b = a.extensions["hotline"].store.spool, b.extensions["hotline"].store.spool
    assert spool_a.dir != spool_b.dir
    spool_a.append(event(SID, 1))
    replayed = []
    assert spool_b.flush(replayed.append) == 0 and replayed == []
    assert [e["n"] for e in spool_a.events(SID)] == [1]


def test_hotline_calls_finds_the_spool_of_the_deployment_serving_its_config(state_home, capsys, monkeypatch):
    from ivr.cli import main

    monkeypatch.chdir(ROOT)
    app = create_app(load_config("examples/brondby.yaml"), redis_url=None, auth_token="t",
                     public_base_url=None, verify_signatures=False)
    resp = app.test_client().post("/voice", data={"CallSid": SID, "To": "+4570112230", "From": "+4534412350"})
    assert resp.status_code == 200
    assert main(["calls", "--config", str(EXAMPLES / "brondby.yaml"), "--json"]) == 0
    assert [r["call_sid"] for r in json.loads(capsys.readouterr().out)] == [SID]
    assert main(["calls", "--config", str(EXAMPLES / "orebro.yaml"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_last_good_copies_are_kept_per_config_source(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    one, two = last_good_dir(EXAMPLES / "brondby.yaml"), last_good_dir(EXAMPLES / "orebro.yaml")
    assert one != two and one.is_relative_to(tmp_path / "state" / "hotline" / "last-good-config")
    monkeypatch.chdir(EXAMPLES)
    assert last_good_dir("brondby.yaml") == one


# -- sharing one directory ---------------------------------------------------------------------


def test_a_write_that_races_a_flush_is_neither_lost_nor_doubled(tmp_path, monkeypatch):
    """A writer that opened the call's file just before a flush claimed it still gets its event
    replayed: the flush waits for the write in flight, and later writes go to a new file."""
    spool = Spool(tmp_path)
    spool.append(event(SID, 1))
    replayed: list[dict] = []
    real_write = os.write
    flusher = threading.Thread(target=lambda: spool.flush(replayed.append))

    def write_after_a_flush_started(fd, data):
        if not flusher.is_alive() and not replayed and b'"n":2' in data:
            flusher.start()  # another process flushes between our open() and write()
            flusher.join(0.5)
        return real_write(fd, data)

    monkeypatch.setattr(spool_module.os, "write", write_after_a_flush_started)
    spool.append(event(SID, 2))
    flusher.join(10)
    monkeypatch.setattr(spool_module.os, "write", real_write)
    spool.append(event(SID, 3))
    spool.flush(replayed.append)
    assert sorted(e["n"] for e in replayed) == [1, 2, 3]
    assert spool.pending() == [] and spool.events(SID) == []


FLUSHER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from ivr.calls.spool import Spool

    spool_dir, out, gate = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def apply(ev):
        with out.open("a") as f:
            f.write(json.dumps(ev) + "\\n")
        while not gate.exists():  # a slow Redis: the replay takes as long as the test wants
            time.sleep(0.02)

    print(Spool(spool_dir).flush(apply), flush=True)
""")


def _replayed(path: Path) -> list[int]:
    return [json.loads(line)["n"] for line in path.read_text().splitlines()] if path.exists() else []


def test_a_second_process_does_not_take_a_claim_that_is_still_being_flushed(tmp_path):
    """Process A claims an old spool file and replays it slowly; process B flushing the same
    directory meanwhile must leave A's claim alone (it used to put it back and replay it too)."""
    spool_dir = tmp_path / "spool"
    spool = Spool(spool_dir)
    for n in (1, 2):
        spool.append(event(SID, n))
    old = time.time() - 3600  # written an hour ago, e.g. during a long Redis outage
    os.utime(spool_dir / f"{SID}.jsonl", (old, old))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gate = tmp_path / "a-gate"
    a_out, b_out = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a = subprocess.Popen([sys.executable, "-c", FLUSHER, str(spool_dir), str(a_out), str(gate)],
                         env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _replayed(a_out) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _replayed(a_out) == [1], "process A did not start replaying"
        b_gate = tmp_path / "b-gate"
        b_gate.touch()  # B's replay is fast; A's waits until the test opens its gate
        b = subprocess.run([sys.executable, "-c", FLUSHER, str(spool_dir), str(b_out), str(b_gate)],
                           env=env, capture_output=True, text=True, timeout=60)
        assert b.returncode == 0, b.stderr
        assert _replayed(b_out) == [], "process B replayed events that process A had claimed"
    finally:
        gate.touch()
        out, _ = a.communicate(timeout=60)
    assert a.returncode == 0 and out.strip() == "2"
    assert _replayed(a_out) == [1, 2]
    assert spool.pending() == [] and list(spool_dir.iterdir()) == []


STRESS = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from ivr.calls.spool import Spool

    spool_dir, out, name, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    spool = Spool(spool_dir)
    with out.open("a") as f:
        def apply(ev):
            f.write(json.dumps(ev) + "\\n")
            f.flush()
        for n in range(count):
            # both processes write to the same two calls and flush every few events
            spool.append({"sid": "CA" + "ab"[n % 2] * 32, "id": f"{name}-{n}", "n": n, "by": name})
            if n % 7 == 0:
                spool.flush(apply)
        spool.flush(apply)
""")


def test_two_processes_appending_and_flushing_one_directory_replay_each_event_once(tmp_path):
    spool_dir = tmp_path / "spool"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    count = 400
    procs = [subprocess.Popen([sys.executable, "-c", STRESS, str(spool_dir), str(tmp_path / f"{name}.out"),
                               name, str(count)], env=env, stderr=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    replayed = [json.loads(line)["id"] for name in ("a", "b")
                for line in (tmp_path / f"{name}.out").read_text().splitlines()]
    left = [ev["id"] for sid in ("CA" + "a" * 32, "CA" + "b" * 32) for ev in Spool(spool_dir).events(sid)]
    expected = sorted(f"{name}-{n}" for name in ("a", "b") for n in range(count))
    assert sorted(replayed + left) == expected, "an event was lost or replayed twice"



def test_a_reader_never_finds_the_last_good_copy_half_replaced(tmp_path, monkeypatch):
    """One worker replaces the kept copy (rename old away, rename new in) while another worker
    finds its files refused and falls back: the fallback waits for the whole new copy."""
    from ivr.config import ConfigErrors
    from ivr.config import lastgood

    good, bad, keep = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "keep"
    good.write_text((EXAMPLES / "brondby.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    bad.write_text("hotline: [\n", encoding="utf-8")
    lastgood.load_or_last_good(good, keep)
    outcome: list = []

    def fall_back():
        try:
            outcome.append(lastgood.load_or_last_good(bad, keep)[0].version)
        except ConfigErrors as exc:
            outcome.append(exc)

    reader = threading.Thread(target=fall_back)
    real_rename = Path.rename

    def rename(self, target):
        moved = real_rename(self, target)
        if Path(target).name == "keep.old" and not reader.is_alive() and not outcome:
            reader.start()  # the other worker looks right between the two renames
            reader.join(0.5)
        return moved

    monkeypatch.setattr(Path, "rename", rename)
    config, _ = lastgood.load_or_last_good(good, keep)
    reader.join(10)
    assert outcome == [config.version]



def test_a_failed_replay_puts_the_events_back_whole(tmp_path):
    """The store's replay takes its private fields out of the event it is given; when Redis then
    fails, what goes back into the spool still has them (the record keeps its lifetime)."""
    spool = Spool(tmp_path)
    spool.append({**event(SID, 1), "_ttl_days": 30, "_index_ts": 1.5})

    def replay_then_fail(ev):
        ev.pop("_ttl_days"), ev.pop("_index_ts")
        raise ConnectionError("Redis went away")

    with pytest.raises(ConnectionError):
        spool.flush(replay_then_fail)
    [back] = spool.events(SID)
    assert (back["_ttl_days"], back["_index_ts"]) == (30, 1.5)
