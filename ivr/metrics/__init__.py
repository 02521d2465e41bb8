"""The hotline's Prometheus counters and histograms, recorded by any process (web or worker).

No Flask here: RQ workers import this module. With PROMETHEUS_MULTIPROC_DIR set before the first
import (prometheus_client reads it then), every process writes its values to files in that
directory and `/metrics` sums them over all processes sharing it (see docs/metrics.md).
Gauges that describe the present (spool depth, queue depth, config version) are not kept here:
ivr.metrics.scrape computes them when /metrics is asked. Nor are the ended calls: `hotline worker`
counts them in Redis, and /metrics reads them there (ivr.metrics.ended).
"""
from __future__ import annotations

import logging

from prometheus_client import Counter, Histogram

log = logging.getLogger(__name__)

CALLS_STARTED = Counter("hotline_calls_started", "Calls that rang a hotline.", ["line"])
WEBHOOK_SECONDS = Histogram(
    "hotline_webhook_duration_seconds", "Time to answer a webhook (Twilio's voice and SMS callbacks).",
    ["endpoint"], buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
WEBHOOK_RESPONSES = Counter("hotline_webhook_responses", "Webhook answers by endpoint and HTTP status.",
                            ["endpoint", "status"])
REDIS_FAILURES = Counter("hotline_redis_failures", "Redis errors: call_log (events went to the spool) "
                         "or metrics (queue figures could not be read).", ["component"])
SMS = Counter("hotline_sms", "Outage SMS by blast kind and result: sent (Twilio accepted it), retried "
              "(not accepted for now, tried again), failed (refused for good or given up), delivered "
              "and undelivered (Twilio's receipts).", ["kind", "result"])
CONFIG_RELOAD_FAILURES = Counter("hotline_config_reload_failures",
                                 "Processes that found HOTLINE_CONFIG refused at start or reload "
                                 "(and serve the last good config).")

_RECEIPTS = {"delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}


def call_started(ev: dict) -> None:
    """Count a new call-log event when it is a call's start. Never raises."""
    try:
        if ev.get("type") == "start":
            _child(CALLS_STARTED, (ev.get("line") or "unknown",)).inc()
    except Exception:  # noqa: BLE001 - metrics never break a call
        log.exception("could not count call event %s", ev.get("id"))


_children: dict[tuple, object] = {}   # (metric, label values) -> the metric's child for them
CHILDREN_KEPT = 4096   # lines x services x routes x outcomes stay far below; past it, labels() each time


def _child(metric, values: tuple):
    """Return `metric.labels(*values)`, the same child every time, kept: labels() checks, builds a
    tuple and takes a lock on every call, and every webhook and every call's start and end count."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = metric.labels(*values)
        if len(_children) < CHILDREN_KEPT:
            _children[key] = child
    return child


def redis_failure(component: str) -> None:
    """Count one Redis error in `component` ("call_log" or "metrics")."""
    REDIS_FAILURES.labels(component).inc()


def sms(kind: str, result: str) -> None:
    """Count one SMS `result` ("sent", "retried", "failed") for a blast of `kind`."""
    SMS.labels(kind or "unknown", result).inc()


def sms_receipt(kind: str | None, status: str) -> None:
    """Count a delivery receipt that moved a message to `status` (delivered, undelivered, failed)."""
    result = _RECEIPTS.get(status)
    if result:
        SMS.labels(kind or "unknown", result).inc()


def webhook(endpoint: str, status: int, seconds: float) -> None:
    """Count one webhook answer and its duration."""
    pair = _webhook_children.get((endpoint, status))
    if pair is None:
        pair = (_child(WEBHOOK_SECONDS, (endpoint,)), _child(WEBHOOK_RESPONSES, (endpoint, str(status))))
        if len(_webhook_children) < CHILDREN_KEPT:
            _webhook_children[(endpoint, status)] = pair
    pair[0].observe(seconds)
    pair[1].inc()


# (endpoint, status) -> its duration histogram's and its answer counter's children: one lookup per
# webhook, and no str(status)
_webhook_children: dict[tuple[str, int], tuple] = {}


def config_refused() -> None:
    """Count one process that found its configured config refused."""
    CONFIG_RELOAD_FAILURES.inc()
