"""The incidents' gauges on /metrics, read when Prometheus scrapes (a source of ivr.metrics.scrape):

- `hotline_incidents_open{line, state}`: incidents still missed (waiting for someone) or
  acknowledged (taken, not resolved), from the small per-line sets ivr.incidents.store keeps;
- `hotline_settle_marks_due` and `hotline_settle_marks_overdue_seconds`: calls whose settle mark is
  due and waits for `hotline worker` to enqueue its job (ivr.incidents.due), and for how long.

No Flask here; the moment is the app's clock (the one the webhooks' marks are scored with).
"""
from __future__ import annotations

import logging

from prometheus_client.core import GaugeMetricFamily
from redis import RedisError

from ivr.incidents import due
from ivr.incidents.store import OPEN_STATES, IncidentStore

log = logging.getLogger(__name__)


def families(state) -> list[GaugeMetricFamily]:
    """Return the incidents' gauges for a HotlineState; none when it has no Redis or Redis fails
    (logged as one warning line: the rest of the scrape goes on)."""
    if state.redis is None:
        return []
    now = state.now().timestamp()
    try:
        open_now = IncidentStore(state.redis).open_counts(now)
        waiting, overdue = due.waiting(state.redis, now)
    except RedisError as exc:
        log.warning("metrics: cannot read incidents from Redis (%s)", exc)
        return []
    return gauges(open_now, waiting, overdue)


def gauges(open_now: dict[str, dict[str, int]], waiting: int, overdue: float) -> list[GaugeMetricFamily]:
    """Return the metric families for {line: {state: count}} and the settle marks waiting."""
    opened = GaugeMetricFamily("hotline_incidents_open", "Incidents not yet resolved: missed (waiting for "
                               "someone) or acknowledged (taken), by line.", labels=["line", "state"])
    for line, counts in sorted(open_now.items()):
        for state in OPEN_STATES:
            opened.add_metric([line, state], counts.get(state, 0))
    return [opened,
            GaugeMetricFamily("hotline_settle_marks_due", "Calls whose incident is due to be settled and "
                              "wait for hotline worker to enqueue the job.", value=waiting),
            GaugeMetricFamily("hotline_settle_marks_overdue_seconds", "How long the oldest due settle mark "
                              "has waited (0 when none).", value=overdue)]
