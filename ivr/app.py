"""The Flask app factory: `create_app()` reads the environment; tests pass overrides.

What the app holds, for views and for other modules' extensions (documented contract):

- `app.extensions["hotline"]`: a `HotlineState` with `.config` (ivr.config.Config), `.redis`
  (a redis.Redis or None), `.store` (ivr.calls.CallStore), `.now()` (aware UTC now, replaceable
  in tests), `.public_base_url`, `.spool_dir`.
- `app.extensions["hotline.announcers"]`: list of callables `(hotline, redis_or_None, now) ->
  list[str]`; their sentences are spoken at the start of every call, before the menu.
- `app.extensions["hotline.service_hooks"]`: list of callables `(hotline, service_id, call_sid,
  redis_or_None, now) -> dict`; the dicts are merged into the call record's `extra` when the caller
  reaches a service.
Exceptions in announcers and hooks are logged and never break a call.

Environment: HOTLINE_CONFIG, REDIS_URL, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, HOTLINE_SPOOL_DIR,
HOTLINE_LAST_GOOD_DIR (where a copy of the last config that loaded is kept: a refused
HOTLINE_CONFIG makes the app serve that copy, loudly, instead of failing to boot), and
HOTLINE_INSECURE_NO_SIGNATURE=1 (development only: turns the signature check off, loudly).
Metrics and webhook log lines: HOTLINE_METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR, HOTLINE_LOG_FORMAT,
HOTLINE_LOG_FULL_NUMBERS (ivr.metrics.web, ivr.weblog, docs/metrics.md).
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
from dataclasses import dataclass, field
from typing import Callable

import redis
from flask import Flask

from ivr import signature
from ivr.calls.spool import Spool
from ivr.calls.store import CallStore, connect_redis
from ivr.config.lastgood import load_or_last_good
from ivr.config.load import Config, config_from_env

log = logging.getLogger(__name__)

# Modules with init_app(app) that add blueprints, announcers or hooks (e.g. the outage module).
PLUGINS: tuple[str, ...] = ("ivr.outages.voice",)

_ENV = object()


def utc_now() -> dt.datetime:
    """Return the current moment as an aware UTC datetime."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class HotlineState:
    """What the voice views need; see the module docstring."""

    config: Config
    redis: redis.Redis | None
    store: CallStore
    now: Callable[[], dt.datetime] = utc_now
    public_base_url: str | None = None
    spool_dir: str = ""
    verify_signatures: bool = True
    announcers: list = field(default_factory=list)
    service_hooks: list = field(default_factory=list)


def _env(value, name: str) -> str | None:
    return (os.environ.get(name) or None) if value is _ENV else value


def create_app(config: Config | None = None, *, redis_url=_ENV, auth_token=_ENV, public_base_url=_ENV,
               now: Callable[[], dt.datetime] | None = None, spool_dir=_ENV,
               verify_signatures: bool | None = None, redis_pause: float = 2.0,
               plugins: tuple[str, ...] | None = None) -> Flask:
    """Return the hotline's Flask app.

    Arguments left out come from the environment (see the module docstring); `config` None loads
    HOTLINE_CONFIG (or the embedded default). Raises ivr.config.ConfigErrors for a bad config.
    """
    app = Flask("ivr")
    refused: list = []
    if config is not None:
        cfg = config
    elif os.environ.get("HOTLINE_CONFIG"):
        cfg, refused = load_or_last_good(os.environ["HOTLINE_CONFIG"], os.environ.get("HOTLINE_LAST_GOOD_DIR"))
        for error in refused:
            log.error("HOTLINE_CONFIG REFUSED, serving the last good config (version %s): %s", cfg.version, error)
    else:
        cfg = config_from_env()
    url = _env(redis_url, "REDIS_URL")
    token = _env(auth_token, "TWILIO_AUTH_TOKEN")
    base = _env(public_base_url, "PUBLIC_BASE_URL")
    spool = Spool(_env(spool_dir, "HOTLINE_SPOOL_DIR"))
    if verify_signatures is None:
        verify_signatures = os.environ.get("HOTLINE_INSECURE_NO_SIGNATURE", "") not in ("1", "true", "yes")
    client = connect_redis(url)
    if client is None:
        log.warning("REDIS_URL is not set: call records are only spooled to %s", spool.dir)
    state = HotlineState(cfg, client, CallStore(client, spool, pause=redis_pause), now or utc_now,
                         base, str(spool.dir), verify_signatures)
    app.extensions["hotline"] = state
    app.extensions["hotline.announcers"] = state.announcers
    app.extensions["hotline.service_hooks"] = state.service_hooks

    signature.init_app(app, token, base, verify_signatures, prefixes=("/voice", "/sms"))
    from ivr.voice import init_app as init_voice

    init_voice(app)
    for name in PLUGINS if plugins is None else plugins:
        importlib.import_module(name).init_app(app)
    from ivr.metrics.web import init_app as init_metrics

    init_metrics(app, refused)

    @app.get("/healthz")
    def healthz():
        """Liveness: config version, lines, whether Redis answers, how many calls wait in the spool."""
        try:
            redis_ok = bool(state.redis is not None and state.redis.ping())
        except redis.RedisError:
            redis_ok = False
        return {"ok": True, "config_version": state.config.version,
                "config_refused": [str(e) for e in refused],
                "lines": [h.line for h in state.config.lines()], "redis": redis_ok,
                "spooled_calls": len(state.store.spool.pending())}

    return app


def state_of(app: Flask) -> HotlineState:
    """Return the app's HotlineState; raises KeyError for an app not made by create_app."""
    return app.extensions["hotline"]
