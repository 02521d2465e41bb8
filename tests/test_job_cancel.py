"""Cancelling RQ jobs (paging rounds, outage escalations) on a real redis-server: a cancelled job
never runs and nothing of it stays in Redis."""
from __future__ import annotations

import datetime as dt

from redis import Redis
from rq import SimpleWorker, get_current_job
from rq.job import Job, JobStatus

from ivr.incidents import paging
from ivr.sms.jobs import cancel_jobs, queue, rq_connection
from tests.sms_helpers import client

LINE = "+4570112299"
RAN = "test:cancel:ran"


def note_run(name: str) -> None:
    """The job the tests enqueue: notes that it ran."""
    get_current_job().connection.rpush(RAN, name)


def left_of(r: Redis, job_ids: list[str]) -> list[str]:
    """Return the rq:* keys that still name one of `job_ids` or hold it (queue, registry, set)."""
    found = []
    for key in map(bytes.decode, r.scan_iter("rq:*")):
        kind = r.type(key).decode()
        for job_id in job_ids:
            if (job_id in key
                    or kind == "zset" and r.zscore(key, job_id) is not None
                    or kind == "list" and job_id.encode() in r.lrange(key, 0, -1)
                    or kind == "set" and r.sismember(key, job_id)):
                found.append(key)
    return found


def test_waiting_and_cancelled_jobs_are_deleted_and_never_run(redis_url):
    r = Redis.from_url(redis_url)
    q = queue(client(redis_url))   # a decode_responses client, as the app has
    q.enqueue_in(dt.timedelta(hours=1), note_run, "scheduled", job_id="t-scheduled")
    q.enqueue(note_run, "queued", job_id="t-queued")
    q.enqueue(note_run, "deferred", job_id="t-deferred", depends_on="t-scheduled")
    q.enqueue(note_run, "cancelled", job_id="t-cancelled")
    Job.fetch("t-cancelled", connection=r).cancel()   # as RQ leaves it: kept forever
    ids = ["t-scheduled", "t-queued", "t-deferred", "t-cancelled"]
    assert len(left_of(r, ids)) >= 4

    assert cancel_jobs(client(redis_url), [*ids, "t-never-was"]) == 3
    assert left_of(r, ids) == []
    SimpleWorker([q], connection=rq_connection(r)).work(burst=True)
    assert r.lrange(RAN, 0, -1) == []


def test_a_running_job_is_left_to_finish(redis_url):
    r = Redis.from_url(redis_url)
    job = queue(r).enqueue(note_run, "running", job_id="t-running")
    job.set_status(JobStatus.STARTED)
    assert cancel_jobs(r, ["t-running"]) == 0
    assert Job.fetch("t-running", connection=r).get_status() == JobStatus.STARTED


def test_cancelling_an_alerts_pages_leaves_no_paging_round_behind(redis_url):
    r = client(redis_url)
    jobs = [paging.page_job_id(LINE, 1, 1), paging.page_job_id(LINE, 1, 2)]
    for round_, job_id in enumerate(jobs, start=1):
        queue(r).enqueue_in(dt.timedelta(seconds=30 * round_), paging.page, LINE, 1, round_, job_id=job_id)
    raw = Redis.from_url(redis_url)
    assert all(raw.exists(f"rq:job:{j}") for j in jobs)
    assert paging.cancel_pages(r, LINE, 1) == 2
    assert left_of(raw, jobs) == []
