"""GET /metrics (Prometheus text format, bearer token) and the per-webhook hooks of the app.

init_app(app) adds, without touching any view: a timer around every request (histogram and
count by endpoint for the webhooks, one log line per webhook: ivr.weblog, kept as
`app.extensions["hotline.weblog"]`), the call-log
listeners (calls started, calls to unknown numbers ended, Redis failures) and the /metrics view.
Other ended calls are counted by `hotline worker` (ivr.metrics.ended).

HOTLINE_METRICS_TOKEN: the bearer token /metrics wants (`Authorization: Bearer TOKEN`); unset,
/metrics answers 404. PROMETHEUS_MULTIPROC_DIR: see ivr.metrics.
"""
from __future__ import annotations

import hmac
import os
import time
from typing import Callable

from flask import Flask, Response, g, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ivr import metrics
from ivr.calls.append import UNKNOWN_LINE
from ivr.metrics import ended
from ivr.metrics.scrape import ScrapeCollector
from ivr.weblog import WebhookLog

WEBHOOK_PREFIXES = ("/voice", "/sms/")


def init_app(app: Flask, refused: list | None = None) -> None:
    """Instrument `app` (made by ivr.app.create_app) and serve /metrics; `refused` lists the
    errors of a refused HOTLINE_CONFIG (the app then serves the last good one)."""
    state = app.extensions["hotline"]
    refused = list(refused or [])
    if refused:
        metrics.config_refused()
    def counted(ev: dict) -> None:   # one observer: each costs a call per event on the flusher
        kind = ev.get("type")
        if kind == "start":
            metrics.call_started(ev)
        elif kind == "end" and ev.get("line") == UNKNOWN_LINE:
            ended.count_end(state.redis, UNKNOWN_LINE, ev["sid"])   # it leaves no settle mark

    state.store.on_event.append(counted)
    state.store.on_redis_failure.append(lambda exc: metrics.redis_failure("call_log"))
    registry = _registry(ScrapeCollector(state, refused))
    token = os.environ.get("HOTLINE_METRICS_TOKEN") or ""
    weblog = WebhookLog.from_env(_own_lines(state))
    app.extensions["hotline.weblog"] = weblog

    @app.before_request
    def _start_timer():
        g._get_current_object().hotline_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g._get_current_object().pop("hotline_started", None)
        req = request._get_current_object()   # one context lookup instead of one per attribute
        if started is None or not req.path.startswith(WEBHOOK_PREFIXES):
            return response
        seconds = time.perf_counter() - started
        rule = req.url_rule
        endpoint = rule.rule if rule is not None else "other"
        status = response.status_code
        metrics.webhook(endpoint, status, seconds)
        weblog.line(req, endpoint, status, seconds)
        return response

    @app.get("/metrics")
    def prometheus_metrics():
        """The Prometheus scrape; 401 without the right bearer token, 404 when no token is set."""
        if not token:
            return Response("metrics are off: set HOTLINE_METRICS_TOKEN\n", 404, mimetype="text/plain")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("a bearer token is needed\n", 401, {"WWW-Authenticate": "Bearer"},
                            mimetype="text/plain")
        return Response(generate_latest(registry), 200, content_type=CONTENT_TYPE_LATEST)


def _own_lines(state) -> Callable[[], frozenset[str]]:
    """Return a function giving the hotline numbers of the config `state` serves now (worked out
    once per config: a reload brings a new config object)."""
    seen: list = [None, frozenset()]

    def lines() -> frozenset[str]:
        config = state.config
        if seen[0] is not config:
            seen[:] = [config, frozenset(h.line for h in config.lines())]
        return seen[1]
    return lines


def _registry(collector: ScrapeCollector) -> CollectorRegistry:
    """Return a registry for one app's scrapes: every process's values (multiprocess mode) or
    this process's default registry, plus the app's present-state gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Process())
    registry.register(collector)
    return registry


class _Process:
    """Yields what this process's default registry holds (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()
