"""A missed call logged entirely while Redis was down still becomes an incident and pages people:
replaying the spool writes the settle marks of the events that were new (real redis-server,
stopped mid-test; the RQ jobs are run in-process, the SMS sending is not)."""
from __future__ import annotations

import datetime as dt

import pytest
from rq.job import Job

from ivr import keys
from ivr.incidents import due, paging
from ivr.incidents.store import IncidentStore
from ivr.sms.jobs import queue
from tests.incident_helpers import OFFICE, missed_into_voicemail, notify_config
from tests.sms_helpers import client

LINE = "+4570112299"


def _jobs(r, name: str) -> list[Job]:
    """Return the queued jobs that run function `name` (module path)."""
    q = queue(r)
    return [j for j in (Job.fetch(i, connection=q.connection) for i in q.job_ids) if j.func_name == name]


def _settle_all(r) -> int:
    """Enqueue the settling marked due (as `hotline worker` does), then run every queued settle job
    once, in-process; returns how many ran."""
    due.pump_once(r, (OFFICE + dt.timedelta(hours=1)).timestamp())
    jobs = _jobs(r, "ivr.incidents.jobs.settle")
    for job in jobs:
        job.func(*job.args, **job.kwargs)
        queue(r).remove(job)
    return len(jobs)


@pytest.fixture
def env(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LINE)


def test_a_missed_call_spooled_whole_gets_its_incident_and_one_page_after_the_flush(
        env, redis_server, redis_url, voice_app):
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    redis_server.stop()
    call = missed_into_voicemail(app)                 # every event of the call goes to the spool
    redis_server.start()
    app.state.store.flush()                           # unless the store's flusher thread was quicker
    assert not app.state.store.spool.pending()
    assert _settle_all(r) >= 1                        # the replay enqueued the settle job
    assert IncidentStore(r).of_call(call.sid) == (LINE, 1)
    incident = IncidentStore(r).get(LINE, 1)
    assert incident["state"] == "missed" and incident["from"] == "+4534412350" and incident["alert"] == "1"
    assert [j.id for j in _jobs(r, "ivr.incidents.paging.page")] == [paging.page_job_id(LINE, 1, 0)]


def test_a_flush_and_a_live_event_of_the_same_call_page_once(env, redis_server, redis_url, voice_app):
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    redis_server.stop()
    call = app.call()
    call.start()
    call.press("1")
    call.ring("no-answer")
    call.leave_message()                              # the outcome is spooled
    redis_server.start()
    call.hang_up()                                    # the end goes to Redis live, with its mark
    app.state.store.flush()                           # the spooled outcome is replayed, with its mark
    assert _settle_all(r) >= 2
    assert IncidentStore(r).numbers(LINE) == [(OFFICE.timestamp(), 1)]
    assert IncidentStore(r).get(LINE, 1)["state"] == "missed"
    assert [j.id for j in _jobs(r, "ivr.incidents.paging.page")] == [paging.page_job_id(LINE, 1, 0)]


def test_replaying_events_already_in_redis_runs_no_hook(env, redis_url, voice_app):
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    missed_into_voicemail(app)
    marked = r.zrange(keys.settle_due(), 0, -1)
    assert marked
    seen = []
    app.state.store.on_replayed = seen.append
    for ev in [json_ev for json_ev in _events(r)]:
        app.state.store.spool.append({**ev, "_ttl_days": 3, "_index_ts": None})
    app.state.store.flush()
    assert seen == [] and r.zrange(keys.settle_due(), 0, -1) == marked


def _events(r):
    import json

    key = next(k for k in r.keys("hotline:call:*:events"))
    return [json.loads(x) for x in r.lrange(key, 0, -1)]


def test_purge_flushing_the_spool_first_still_opens_the_missed_calls_incident(
        env, redis_server, redis_url, voice_app, tmp_path, capsys):
    # `hotline purge --yes` replays the spool before it looks for the number: a missed call logged
    # while Redis was down must get its incident from that replay, as from a web process's flush.
    from ivr.cli import main
    from tests.incident_helpers import notify_yaml

    config = tmp_path / "hotline.yaml"
    config.write_text(notify_yaml("10m"))
    app = voice_app(notify_config(), at=OFFICE)
    r = client(redis_url)
    redis_server.stop()
    call = missed_into_voicemail(app, caller="+4534412399")
    purge_spool = tmp_path / "spool-of-another-host"      # out of the app's flusher's reach
    purge_spool.mkdir()
    for path in app.state.store.spool.pending():
        path.rename(purge_spool / path.name)
    redis_server.start()
    assert main(["purge", "--number", "+4534412350", "--yes", "--config", str(config),
                 "--spool-dir", str(purge_spool)]) == 0
    assert not list(purge_spool.iterdir())
    assert _settle_all(r) >= 1
    assert IncidentStore(r).of_call(call.sid) == (LINE, 1)
