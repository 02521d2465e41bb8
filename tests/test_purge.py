"""`hotline purge --number`: one person's number out of the call log, outages and SMS blasts (real Redis)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import redis

from ivr.calls.events import event
from ivr.cli import main
from ivr.config import load_config
from ivr.outages import service
from ivr.outages.store import OutageStore
from ivr.privacy.purge import find, names
from ivr.sms.blast import BlastStore
from tests.sms_helpers import PUBLIC
from tests.support.voice import TEST_YAML, config_from_text

BRONDBY = Path(__file__).resolve().parents[1] / "examples" / "brondby.yaml"
T0 = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.timezone.utc)   # night: the technicians' chain
CALLER, OTHER, TECH = "+4534412350", "+4534412351", "+4534412362"


@pytest.fixture(autouse=True)
def env(redis_url, tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)


def _call(va, caller):
    call = va.call(caller=caller)
    call.start()
    call.press("1")
    call.ring("accept")                   # TECH takes it (screened: pressed 1)
    call.hang_up()
    return call


@pytest.fixture
def world(voice_app, redis_url):
    """Two calls (CALLER's and OTHER's, both put through to TECH), an outage declared by phone from
    CALLER that texted the sites, and a PIN lockout counter of CALLER."""
    va = voice_app(config_from_text(TEST_YAML), at=T0)
    mine, theirs = _call(va, CALLER), _call(va, OTHER)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    brondby = load_config(BRONDBY).lines()[0]
    site = brondby.all_sites()[0].number
    oid = service.declare(r, brondby, "nexus", "", f"phone:{CALLER}", T0).outage.id
    OutageStore(r).link_call(oid, mine.sid)
    service.restore(r, brondby, "nexus", "cli:admin", T0 + dt.timedelta(hours=1))
    BlastStore(r).mark_sent(f"outage-{oid}-down", site, "SM" + "1" * 32, "queued", 30)
    r.hset(f"hotline:staff:attempts:+4570112299:{CALLER}", mapping={"fails": 2, "busy": 0})
    r.expire(f"hotline:staff:attempts:+4570112299:{CALLER}", 900)
    return {"va": va, "r": r, "mine": mine, "theirs": theirs, "oid": oid, "site": site}


def _snapshot(r) -> dict:
    return {k: (r.type(k), r.dump(k)) for k in r.keys("hotline:*")}


def _everything(r) -> str:
    """Return every hotline key with its value as text."""
    read = {"string": r.get, "list": lambda k: r.lrange(k, 0, -1), "set": r.smembers, "hash": r.hgetall,
            "zset": lambda k: r.zrange(k, 0, -1)}
    return "\n".join(f"{k} {read[r.type(k)](k)}" for k in r.keys("hotline:*"))


def test_dry_run_lists_what_would_go_and_changes_nothing(world, capsys):
    r = world["r"]
    before = _snapshot(r)
    assert main(["purge", "--number", CALLER, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert _snapshot(r) == before
    assert f"{CALLER}: would go" in out
    assert "    1  calls from the number" in out and world["mine"].sid in out
    assert "    0  other calls naming it" in out
    assert "    1  outages declared/restored from it by phone" in out
    assert "    1  staff PIN lockout counters" in out
    assert "config, not data" in out


def test_without_yes_nothing_is_done(world, capsys):
    before = _snapshot(world["r"])
    assert main(["purge", "--number", CALLER]) == 2
    assert "add --dry-run" in capsys.readouterr().err
    assert _snapshot(world["r"]) == before


def test_purging_a_caller_deletes_their_calls_and_masks_them_as_staff(world, capsys):
    r, va, mine, theirs, oid = world["r"], world["va"], world["mine"], world["theirs"], world["oid"]
    assert CALLER in _everything(r)
    assert main(["purge", "--number", CALLER, "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"{CALLER}: removed" in out and "    1  calls from the number" in out
    assert va.record(mine.sid) is None
    assert not r.exists(f"hotline:call:{mine.sid}:seen")
    assert r.zscore("hotline:calls:+4570112299", mine.sid) is None
    assert r.smembers(f"hotline:outage:{oid}:calls") == set()
    assert va.record(theirs.sid)["from"] == OTHER                     # someone else's call stays
    outage = OutageStore(r).get(oid)
    assert (outage.declared_by, outage.restored_by) == ("phone:(purged)", "cli:admin")
    assert not r.exists(f"hotline:staff:attempts:+4570112299:{CALLER}")
    assert CALLER not in _everything(r)
    assert find(r, CALLER).counts() == dict.fromkeys(find(r, CALLER).counts(), 0)
    assert main(["purge", "--number", CALLER, "--yes"]) == 0              # again: nothing left, no error


def test_purging_a_caller_masks_them_in_the_settle_marks_of_their_calls(world, capsys):
    from ivr import keys
    from ivr.incidents import due

    r, mine = world["r"], world["mine"]
    marked = [json.loads(m) for m in r.zrange(keys.settle_due(), 0, -1)]
    assert any(m["sid"] == mine.sid and m["caller"] == CALLER for m in marked)   # the world's call is waiting
    assert main(["purge", "--number", CALLER, "--dry-run"]) == 0
    assert "calls from it waiting to be settled" in capsys.readouterr().out
    assert main(["purge", "--number", CALLER, "--yes"]) == 0
    after = [json.loads(m) for m in r.zrange(keys.settle_due(), 0, -1)]
    assert len(after) == len(marked) and CALLER not in json.dumps(after)
    mine_now = [m for m in after if m["sid"] == mine.sid]
    assert mine_now and all(m["caller"] == "(purged)" and m["caller_name"] == "" for m in mine_now)
    assert all(due.job_of(json.dumps(m))[1] == m["sid"] for m in after)   # still marks the worker can enqueue


def test_purging_a_callee_masks_the_number_and_keeps_the_incidents(world, capsys):
    r, va = world["r"], world["va"]
    ttl = r.ttl(f"hotline:call:{world['theirs'].sid}:events")
    assert va.record(world["theirs"].sid)["accepted_by"] == TECH
    assert main(["purge", "--number", TECH, "--yes"]) == 0
    assert "    2  other calls naming it" in capsys.readouterr().out
    for call, caller in ((world["mine"], CALLER), (world["theirs"], OTHER)):
        record = va.record(call.sid)
        assert record["from"] == caller and record["accepted_by"] == "(purged)"
        assert all(TECH not in json.dumps(e) for e in va.state.store.events(call.sid))
        assert all(TECH not in m for m in r.smembers(f"hotline:call:{call.sid}:seen"))
    assert 0 < r.ttl(f"hotline:call:{world['theirs'].sid}:events") <= ttl   # retention unchanged


def test_purging_a_site_number_removes_it_from_the_blasts(world, capsys):
    r, oid, site = world["r"], world["oid"], world["site"]
    down, restored = f"outage-{oid}-down", f"outage-{oid}-restored"
    before = BlastStore(r).progress(down)
    assert main(["purge", "--number", site, "--yes"]) == 0
    assert "    2  SMS blast recipients" in capsys.readouterr().out
    for bid in (down, restored):
        assert site not in BlastStore(r).numbers(bid)
        assert BlastStore(r).recipient(bid, site) == {}
    assert not r.exists("hotline:sms:sid:SM" + "1" * 32)
    after = BlastStore(r).progress(down)
    assert (after["total"], after["done"], after["sent"]) == (
        before["total"] - 1, before["done"] - 1, before["sent"] - 1)


def test_a_number_inside_a_longer_one_is_not_touched():
    assert names('"from":"+4534412350"', "+4534412350")
    assert not names('"from":"+45344123501"', "+4534412350")


def test_bad_arguments_and_a_hotline_number_are_refused(world, capsys):
    assert main(["purge", "--number", "12", "--yes"]) == 2
    assert "is not a phone number in E.164" in capsys.readouterr().err
    assert main(["purge", "--number", "+4570112299", "--yes"]) == 2
    assert "is a hotline's own number" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["purge", "--number", CALLER, "--yes", "--dry-run"])
    assert exc.value.code == 2


def test_redis_down_is_one_line_and_exit_1(redis_server, redis_url, capsys):
    redis_server.stop()
    assert main(["purge", "--number", CALLER, "--yes"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hotline: cannot reach Redis") and "Traceback" not in err


def test_spooled_events_of_the_number_are_purged_too(redis_url, tmp_path, capsys):
    from ivr.calls.spool import Spool

    sid = "CA" + "7" * 32
    Spool(tmp_path / "spool").append({**event(sid, "+4570112299", "start", "start", T0, **{"from": CALLER}),
                                      "_ttl_days": 3, "_index_ts": T0.timestamp()})
    assert main(["purge", "--number", CALLER, "--yes"]) == 0
    assert "    1  calls from the number" in capsys.readouterr().out
    assert not list((tmp_path / "spool").glob("*")) and not redis.Redis.from_url(redis_url).keys("hotline:call:*")


def test_events_of_the_number_in_a_dead_processs_journal_are_purged_too(redis_url, tmp_path, capsys):
    # A web process killed before its write-behind wrote its events leaves them in its journal,
    # which a running process would replay into Redis later: the purge takes them in first.
    from ivr.calls.journal import journal_dir, journal_line

    sid = "CA" + "8" * 32
    folder = journal_dir(tmp_path / "spool")
    folder.mkdir()
    ev = event(sid, "+4570112299", "start", "start", T0, **{"from": CALLER})
    (folder / "4244-abc.log").write_text(journal_line(json.dumps(ev), 3, T0.timestamp(), None))
    assert main(["purge", "--number", CALLER, "--yes"]) == 0
    assert "    1  calls from the number" in capsys.readouterr().out
    assert not list(folder.glob("*.log")) and not redis.Redis.from_url(redis_url).keys("hotline:call:*")


def test_the_redis_url_rule_and_messages_are_the_other_commands(redis_server, redis_url, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "foo")
    assert main(["purge", "--number", CALLER, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline: REDIS_URL 'foo' is not a Redis URL") and "internal error" not in err
    assert main(["purge", "--number", CALLER, "--dry-run", "--redis-url", "bar"]) == 2
    assert capsys.readouterr().err.startswith("hotline: --redis-url 'bar' is not a Redis URL")
    monkeypatch.delenv("REDIS_URL")
    assert main(["purge", "--number", CALLER, "--dry-run"]) == 2
    assert capsys.readouterr().err.startswith("hotline: REDIS_URL is not set: this command needs Redis")
    secret = redis_url.replace("redis://", "redis://:sesame@")
    redis_server.stop()
    assert main(["purge", "--number", CALLER, "--yes", "--redis-url", secret]) == 1
    err = capsys.readouterr().err
    masked = redis_url.replace("redis://", "redis://:***@")
    assert err.startswith(f"hotline: cannot reach Redis at {masked} (") and "sesame" not in err
    assert err.rstrip().endswith("run the purge again")


def test_yes_flushes_the_spool_of_the_deployment_with_that_config_and_redis(redis_url, tmp_path, monkeypatch,
                                                                           capsys):
    from ivr.calls.spool import Spool, default_dir

    monkeypatch.delenv("HOTLINE_SPOOL_DIR")
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sid = "CA" + "6" * 32
    spool = Spool(default_dir(str(BRONDBY), redis_url))   # where `serve --config brondby` with it spools
    spool.append({**event(sid, "+4570112230", "start", "start", T0, **{"from": CALLER}),
                  "_ttl_days": 3, "_index_ts": T0.timestamp()})
    assert main(["purge", "--number", CALLER, "--yes", "--redis-url", redis_url, "--config", str(BRONDBY)]) == 0
    assert "    1  calls from the number" in capsys.readouterr().out
    assert not list(spool.dir.glob("*.jsonl"))
