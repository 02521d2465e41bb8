"""RQ jobs that send blasts (no Flask here: workers run without an app).

start_blast() stores a blast and enqueues `send_batch` jobs of `batch` recipients plus a
`watch_blast` job that looks again every `watch` seconds until every recipient is sent or
failed. Exactly-once does not depend on RQ running each job once: a job killed half-way, run
twice or enqueued again by the watchdog only claims recipients nobody finished or holds.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Iterable

from redis import ConnectionPool, Redis
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from ivr.sms.blast import Blast, BlastStore, RecipientState
from ivr.sms.ratelimit import RateLimiter
from ivr.sms.sender import deliver
from ivr.sms.settings import SmsSettings
from ivr.sms.twilio_rest import client_from_env

log = logging.getLogger(__name__)
QUEUE = "sms"
FAILED_JOB_SECONDS = 7 * 86400  # RQ keeps a failed send_batch job (it lists numbers) this long, not a year


def redis_from_env() -> Redis:
    """Return a Redis client for REDIS_URL (default redis://localhost:6379/0)."""
    return Redis.from_url(os.environ.get("REDIS_URL") or "redis://localhost:6379/0")


def _connection() -> Redis:
    job = get_current_job()
    return job.connection if job is not None else redis_from_env()


@functools.lru_cache(maxsize=8)
def _undecoded(pool: ConnectionPool) -> Redis:
    kwargs = {**pool.connection_kwargs, "decode_responses": False}
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))


def rq_connection(redis: Redis) -> Redis:
    """Return `redis`, or a client on the same server without decode_responses (which RQ needs)."""
    if redis.connection_pool.connection_kwargs.get("decode_responses"):
        return _undecoded(redis.connection_pool)
    return redis


def queue(redis: Redis) -> Queue:
    """Return the RQ queue the SMS jobs run on."""
    return Queue(QUEUE, connection=rq_connection(redis))


def cancel_jobs(redis: Redis, job_ids: Iterable[str]) -> int:
    """Delete the jobs `job_ids` so none of them runs any more and nothing of them stays in Redis
    (a job RQ only marks cancelled is kept forever); returns how many were still waiting to run
    (scheduled, queued or deferred).

    A job running right now is left to finish (it expires by its own result TTL): its function has
    to find out itself that its work is no longer wanted. Ids without a job are skipped.
    """
    connection = rq_connection(redis)
    waiting = 0
    for job_id in job_ids:
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            continue
        status = job.get_status(refresh=False)
        if status == JobStatus.STARTED:
            continue
        waiting += status in (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.DEFERRED)
        job.delete()
    return waiting


def start_blast(redis: Redis, blast: Blast, numbers: list[str], settings: SmsSettings | None = None) -> bool:
    """Store `blast` and enqueue its sending; returns False if it existed (sends nothing new).

    If the existing blast is unfinished, a watchdog look is scheduled: a start that died between
    storing the blast and enqueueing its jobs is completed by running it again (the watchdog
    resumes a blast that makes no progress; claims keep everyone at one message).
    Raises redis errors: the caller (CLI, phone) reports that nothing was sent.
    """
    settings = settings or SmsSettings.from_env()
    store = BlastStore(redis)
    if not store.create(blast, numbers):
        if store.is_active(blast.id):
            queue(redis).enqueue_in(dt.timedelta(seconds=settings.watch), watch_blast, blast.id, -2, result_ttl=0)
        return False
    enqueue_batches(redis, blast.id, store.numbers(blast.id), settings)
    queue(redis).enqueue_in(dt.timedelta(seconds=settings.watch), watch_blast, blast.id, result_ttl=0)
    return True


def enqueue_batches(redis: Redis, blast_id: str, numbers: list[str], settings: SmsSettings) -> int:
    """Enqueue send_batch jobs covering `numbers`; returns how many jobs."""
    q = queue(redis)
    size = max(1, settings.batch)
    chunks = [numbers[i:i + size] for i in range(0, len(numbers), size)]
    with q.connection.pipeline() as pipe:
        for chunk in chunks:
            q.enqueue(send_batch, blast_id, chunk, pipeline=pipe, result_ttl=60, failure_ttl=FAILED_JOB_SECONDS,
                      job_timeout=max(600, int(len(chunk) * settings.lease)))
        pipe.execute()
    return len(chunks)


def send_batch(blast_id: str, numbers: list[str]) -> dict[str, int]:
    """RQ job: deliver `blast_id` to each of `numbers`; returns counts by outcome."""
    redis, settings = _connection(), SmsSettings.from_env()
    store = BlastStore(redis)
    blast = store.get(blast_id)
    if blast is None:
        log.warning("blast %s is gone; nothing to send", blast_id)
        return {}
    client = client_from_env()
    limiter = RateLimiter(redis, blast.sender, blast.rate)
    counts: dict[str, int] = {}
    for number in numbers:
        outcome = deliver(store, client, blast, number, limiter, settings)
        counts[outcome.value] = counts.get(outcome.value, 0) + 1
    progress = store.progress(blast_id)
    if progress["done"] >= progress["total"]:
        store.finish(blast_id)
    return counts


def watch_blast(blast_id: str, last_done: int = -1) -> str:
    """RQ job: finish or nudge a blast; returns "finished", "gone", "waiting" or "resumed N".

    Schedules its own next run first, so a worker dying here does not end the watch. When no
    recipient finished since the last look, the ones that can be claimed (pending and due, or
    held by a lease that ran out) get fresh send_batch jobs.
    """
    redis, settings = _connection(), SmsSettings.from_env()
    store = BlastStore(redis)
    if store.get(blast_id) is None:  # deleted (or Redis lost it): nothing left to watch
        store.finish(blast_id)
        return "gone"
    progress = store.progress(blast_id)
    if progress["done"] >= progress["total"]:
        store.finish(blast_id)
        return "finished"
    q = queue(redis)
    q.enqueue_in(dt.timedelta(seconds=settings.watch), watch_blast, blast_id, progress["done"], result_ttl=0)
    if progress["done"] != last_done:
        return "waiting"
    stuck = claimable(store, blast_id)
    if stuck:
        enqueue_batches(redis, blast_id, stuck, settings)
    return f"resumed {len(stuck)}"


def claimable(store: BlastStore, blast_id: str) -> list[str]:
    """Return recipients of a blast that a worker could claim right now."""
    now_us = _redis_now_us(store.redis)
    out = []
    for rec in store.recipients(blast_id):
        state = rec.get("state")
        if state == RecipientState.PENDING.value and int(rec.get("not_before") or 0) <= now_us:
            out.append(rec["to"])
        elif state == RecipientState.SENDING.value and int(rec.get("lease_until") or 0) <= now_us:
            out.append(rec["to"])
    return out


def resume_all(redis: Redis, settings: SmsSettings | None = None) -> int:
    """Schedule a watch of every unfinished blast (a starting worker calls this); returns how many."""
    settings = settings or SmsSettings.from_env()
    store = BlastStore(redis)
    q = queue(redis)
    ids = store.active()
    for blast_id in ids:
        q.enqueue_in(dt.timedelta(seconds=1), watch_blast, blast_id, -2, result_ttl=0)
    return len(ids)


def _redis_now_us(redis: Redis) -> int:
    sec, usec = redis.time()
    return int(sec) * 1_000_000 + int(usec)


__all__ = ["cancel_jobs", "start_blast", "send_batch", "watch_blast", "resume_all", "queue", "QUEUE"]
