"""Gauges computed when /metrics is asked: spool depth, queue depth and age, workers, config; and
the counts of ended calls that `hotline worker` keeps in Redis (ivr.metrics.ended).

SOURCES is the hook for other parts of the app: a callable `(state) -> iterable of
prometheus_client metric families` added there (`add_source`) is collected on every scrape (e.g.
the incidents module adds `hotline_incidents_open`: ivr.incidents.gauges). A source that raises is
logged and skipped.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable, Iterable

import redis
from prometheus_client.core import GaugeMetricFamily
from rq import Queue, Worker

from ivr import metrics
from ivr.calls.journal import journal_dir, waiting_bytes
from ivr.metrics import ended
from ivr.sms.jobs import rq_connection

log = logging.getLogger(__name__)

QUEUES = ("sms", "default")
SOURCES: list[Callable[[object], Iterable]] = []


def add_source(source: Callable[[object], Iterable]) -> None:
    """Collect `source(state)` on every scrape; adding the same source again (an app made twice in
    one process) changes nothing."""
    if source not in SOURCES:
        SOURCES.append(source)


class ScrapeCollector:
    """A prometheus_client collector over one app's HotlineState (and its refused config errors)."""

    def __init__(self, state, refused: list):
        self.state, self.refused = state, refused

    def collect(self):
        """Yield the present-state gauges; Redis-backed ones only when Redis answers."""
        yield _gauge("hotline_spool_depth", "Calls whose events wait in the local spool for Redis.",
                     len(self.state.store.spool.pending()))
        yield _gauge("hotline_journal_bytes", "Bytes of call events in the web processes' journals, "
                     "not yet written to Redis or the spool (emptied within milliseconds normally).",
                     waiting_bytes(journal_dir(self.state.store.spool.dir)))
        info = GaugeMetricFamily("hotline_config_info", "The config version this process serves.",
                                 labels=["version"])
        info.add_metric([self.state.config.version], 1)
        yield info
        yield _gauge("hotline_config_refused_errors",
                     "Errors in HOTLINE_CONFIG when it was refused (0: the configured file is served).",
                     len(self.refused))
        yield from self._queues()
        yield from ended.families(self.state)
        for source in list(SOURCES):
            try:
                yield from source(self.state)
            except Exception:  # noqa: BLE001 - one broken source must not hide the others
                log.exception("metrics source %r failed", source)

    def _queues(self):
        client = self.state.redis
        if client is None:
            yield _gauge("hotline_redis_up", "1 when Redis answered this scrape.", 0)
            return
        depth = GaugeMetricFamily("hotline_queue_jobs", "Jobs waiting in an RQ queue.", labels=["queue"])
        age = GaugeMetricFamily("hotline_queue_oldest_job_age_seconds",
                                "Age of the oldest job waiting in an RQ queue (0 when empty).", labels=["queue"])
        try:
            conn = rq_connection(client)
            for name in QUEUES:
                queue = Queue(name, connection=conn)
                depth.add_metric([name], queue.count)
                age.add_metric([name], _oldest_age(queue))
            workers = Worker.count(connection=conn)
        except redis.RedisError as exc:
            metrics.redis_failure("metrics")
            log.warning("metrics: cannot read the queues from Redis (%s)", exc)
            yield _gauge("hotline_redis_up", "1 when Redis answered this scrape.", 0)
            return
        yield _gauge("hotline_redis_up", "1 when Redis answered this scrape.", 1)
        yield from (depth, age, _gauge("hotline_workers", "RQ workers registered (hotline worker processes).",
                                       workers))


def _oldest_age(queue: Queue) -> float:
    ids = queue.get_job_ids(0, 0)
    job = queue.fetch_job(ids[0]) if ids else None
    if job is None or job.enqueued_at is None:
        return 0.0
    enqueued = job.enqueued_at
    if enqueued.tzinfo is None:
        enqueued = enqueued.replace(tzinfo=dt.timezone.utc)
    return max(0.0, time.time() - enqueued.timestamp())


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
