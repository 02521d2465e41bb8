"""The Flask app factory: `create_app()` reads the environment; tests pass overrides.

What the app holds, for views and for other modules' extensions (documented contract):

- `app.extensions["hotline"]`: a `HotlineState` with `.config` (ivr.config.Config), `.redis`
  (a redis.Redis or None, made by ivr.calls.gate: short timeouts, no retries, one circuit breaker
  per process; a skipped or failed command raises a redis.RedisError), `.store` (ivr.calls.CallStore), `.now()` (aware UTC now, replaceable
  in tests), `.public_base_url`, `.spool_dir`.
- `app.extensions["hotline.announcers"]`: list of callables `(hotline, redis_or_None, now) ->
  list[str]`; their sentences are spoken at the start of every call, before the menu.
- `app.extensions["hotline.service_hooks"]`: list of callables `(hotline, service_id, call_sid,
  redis_or_None, now) -> dict`; the dicts are merged into the call record's `extra` when the caller
  reaches a service. They run again when Twilio repeats that request (the call follows the newest
  decision, with its extras), so what they do must be idempotent.
- `app.extensions["hotline.outcome_hooks"]`: list of callables `(hotline, call_sid, kind, data,
  redis_or_None, now)`, called after a new `outcome`, `end` or `attempt` event of a call was logged
  (e.g. the incidents module numbers the call's incident and pages about a missed one). They run
  outside the request, once the write-behind (ivr.calls.behind) wrote the event and Redis found it
  new, and likewise for such events replayed from the spool after Redis was down
  (`CallStore.on_replayed`), so a call logged entirely while Redis was down is acted on too.
- `app.extensions["hotline.outcome_marks"]`: list of callables `(hotline, event, at) -> (key,
  due epoch second, member) or None`, asked before a call's `outcome`, `end` or `attempt` event is
  recorded; the first mark given travels with the event (ivr.calls.append.follow_up): `member` is
  added to the sorted set `key` in the same script call that writes the event, only when the event
  is new, and through the spool when Redis is down. Work due because of an event (the incidents
  module's settling, ivr.incidents.due) is thus never lost nor done twice, and costs the webhook
  no round trip of its own. A mark that cannot be written (its due time no finite number, its key
  or member no text) is dropped with an error logged; the event itself is written all the same.
- `app.extensions["hotline.config_refused"]`: the errors that refused HOTLINE_CONFIG at start
  (empty when it loaded), for the admin console's config page.
Announcers and hooks run on the call path: they must not wait on Redis (read what they need from a
copy kept fresh off the call path, as ivr.outages.status_copy does); every Redis command of a
/voice request counts against one time budget (ivr.calls.gate.CALL_BUDGET). Exceptions in
announcers and hooks are logged and never break a call.

Environment: HOTLINE_CONFIG, REDIS_URL, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, HOTLINE_SPOOL_DIR (default:
a directory of this deployment's own, see ivr.calls.spool.default_dir),
HOTLINE_LAST_GOOD_DIR (where a copy of the last config that loaded is kept: a refused
HOTLINE_CONFIG makes the app serve that copy, loudly, instead of failing to boot),
HOTLINE_CONFIG_WATCH (seconds between looks at HOTLINE_CONFIG's files for a saved edit, which is
then loaded without a restart: ivr.config.watch; default 2, 0 turns it off), and
HOTLINE_INSECURE_NO_SIGNATURE=1 (development only: turns the signature check off, loudly),
HOTLINE_BODY_SECONDS (under gunicorn, how long a webhook body may take to arrive; default 3).
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
from flask.sessions import SecureCookieSessionInterface

from ivr import health, signature, webhook_guard
from ivr.calls.append import follow_up
from ivr.calls.gate import gated_client
from ivr.calls.spool import Spool, default_dir as spool_default_dir
from ivr.calls.store import CallStore
from ivr.config import watch as config_watch
from ivr.config.lastgood import load_or_last_good
from ivr.config.load import Config, config_from_env
from ivr.webrequest import HotlineRequest

log = logging.getLogger(__name__)

# Modules with init_app(app) that add blueprints, announcers or hooks (e.g. the outage module).
PLUGINS: tuple[str, ...] = ("ivr.outages.voice", "ivr.incidents.web", "ivr.probe.voice", "ivr.console")
# Paths only Twilio posts to: POST only, small bodies (ivr.webhook_guard), signed (ivr.signature).
WEBHOOK_PREFIXES: tuple[str, ...] = ("/voice", "/sms")

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
    outcome_hooks: list = field(default_factory=list)
    outcome_marks: list = field(default_factory=list)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, answering a request without any cookie (every webhook)
    as Flask does, a new empty session, without first building the signing serializer (about
    10 us: it serialises a test value to see what kind of serializer it has)."""

    def open_session(self, app: Flask, request):
        if "HTTP_COOKIE" not in request.environ and app.secret_key:
            return self.session_class()
        return super().open_session(app, request)


class HotlineFlask(Flask):
    """Flask with three per-request costs cut: url-encoded bodies parsed in one step
    (ivr.webrequest), sessions opened without a serializer when there is no cookie
    (CookieSessions), and `ensure_sync` answering from what it found before for the same function
    (Flask asks inspect whether each hook and the view are coroutines on every request)."""

    request_class = HotlineRequest
    session_interface = CookieSessions()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    SYNC_KEPT = 512  # hooks and views are a fixed few; a function made per request is not kept past this

    def ensure_sync(self, func: Callable) -> Callable:
        try:
            return self._sync[func]
        except KeyError:
            found = super().ensure_sync(func)
            if len(self._sync) < self.SYNC_KEPT:
                self._sync[func] = found
            return found
        except TypeError:  # an unhashable callable: ask every time
            return super().ensure_sync(func)


def _env(value, name: str) -> str | None:
    return (os.environ.get(name) or None) if value is _ENV else value


def create_app(config: Config | None = None, *, redis_url=_ENV, auth_token=_ENV, public_base_url=_ENV,
               now: Callable[[], dt.datetime] | None = None, spool_dir=_ENV,
               verify_signatures: bool | None = None, redis_pause: float = 2.0,
               plugins: tuple[str, ...] | None = None, make_spool: bool = True,
               write_behind: bool = True) -> Flask:
    """Return the hotline's Flask app.

    Arguments left out come from the environment (see the module docstring); `config` None loads
    HOTLINE_CONFIG (or the embedded default). `make_spool`: make the spool directory now (a server;
    an admin command leaves it to the first write). `write_behind` False: webhooks write their
    call events before answering (ivr.calls.behind). Raises ivr.config.ConfigErrors for a bad config.
    """
    app = HotlineFlask("ivr")
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
    source = os.environ["HOTLINE_CONFIG"] if config is None and refused else cfg.source
    spool = Spool(_env(spool_dir, "HOTLINE_SPOOL_DIR") or spool_default_dir(source, url))
    if make_spool:
        try:
            spool.prepare()
        except OSError as exc:   # said now, not found out when Redis fails
            log.error("the spool directory %s cannot be made (%s): call events cannot be kept while Redis "
                      "is down or unset", spool.dir, exc)
    if verify_signatures is None:
        verify_signatures = os.environ.get("HOTLINE_INSECURE_NO_SIGNATURE", "") not in ("1", "true", "yes")
    client = gated_client(url, pause=redis_pause)
    if client is None:
        log.warning("REDIS_URL is not set: call records are only spooled to %s", spool.dir)
    state = HotlineState(cfg, client, CallStore(client, spool, pause=redis_pause, write_behind=write_behind), now or utc_now,
                         base, str(spool.dir), verify_signatures)
    app.extensions["hotline"] = state
    app.extensions["hotline.announcers"] = state.announcers
    app.extensions["hotline.service_hooks"] = state.service_hooks
    app.extensions["hotline.outcome_hooks"] = state.outcome_hooks
    app.extensions["hotline.outcome_marks"] = state.outcome_marks
    app.extensions["hotline.config_refused"] = refused
    every = config_watch.every_from_env()
    if config is None and os.environ.get("HOTLINE_CONFIG") and every > 0:
        from ivr import metrics

        watcher = config_watch.ConfigWatcher(state, os.environ["HOTLINE_CONFIG"],
                                             os.environ.get("HOTLINE_LAST_GOOD_DIR"), refused, metrics.config_refused)
        app.extensions["hotline.config_watch"] = watcher
        watcher.start(every)
    state.store.on_replayed = lambda ev: replayed_hooks(app, ev)
    state.store.mark_replayed = lambda ev: replayed_mark(app, ev)
    if make_spool:
        # A server replays what is spooled, and what processes that died left in their journals,
        # from its start: a worker that gunicorn started in place of a killed one may get no webhook.
        state.store.start_flusher()

    webhook_guard.init_app(app, WEBHOOK_PREFIXES)   # first: refusals before any body is read
    signature.init_app(app, token, base, verify_signatures, prefixes=WEBHOOK_PREFIXES)
    from ivr.voice import init_app as init_voice

    init_voice(app)
    for name in PLUGINS if plugins is None else plugins:
        importlib.import_module(name).init_app(app)
    from ivr.metrics.web import init_app as init_metrics

    init_metrics(app, refused)

    @app.get("/healthz")
    def healthz():
        """Public health: status ok/degraded, reason codes, counts (see ivr.health); always 200."""
        return health.report(state, len(refused))

    return app


OUTCOME_KINDS = ("outcome", "end", "attempt")  # the event kinds the outcome hooks hear of
_EVENT_KEYS = ("id", "sid", "line", "type", "at")


def replayed_hooks(app: Flask, ev: dict) -> None:
    """Run the outcome hooks for event `ev` replayed from the spool (new to Redis), in an app
    context without a request; a failing hook is logged."""
    st = state_of(app)
    if ev.get("type") not in OUTCOME_KINDS or not st.outcome_hooks or st.redis is None:
        return   # nothing to run: no app context pushed (the write-behind asks for every new event)
    with app.app_context():
        hotline = st.config.find(ev.get("line") or "")
        try:
            at = dt.datetime.fromisoformat(ev["at"])
        except (KeyError, TypeError, ValueError):
            at = st.now()
        data = {k: v for k, v in ev.items() if k not in _EVENT_KEYS}
        run_outcome_hooks(st, hotline, ev.get("sid") or "", ev["type"], data, at)


def with_outcome_mark(st: HotlineState, hotline, ev: dict, at: dt.datetime) -> dict:
    """Return `ev` with the first follow-up an outcome mark maker gives for it (see the module
    docstring), or `ev` itself; a failing maker is logged and skipped."""
    for maker in list(st.outcome_marks):
        try:
            mark = maker(hotline, ev, at)
        except Exception:  # noqa: BLE001 - a mark maker never breaks a call
            log.exception("outcome mark %r failed for call %s", maker, ev.get("sid"))
            continue
        if mark is not None:
            return follow_up(ev, *mark)
    return ev


def replayed_mark(app: Flask, ev: dict) -> dict:
    """Return a spooled event without a follow-up (spooled by an older version; CallStore asks only
    for such) with the one the outcome mark makers give it now, in an app context without a
    request; `ev` unchanged when it is not an outcome, end or attempt event."""
    if ev.get("type") not in OUTCOME_KINDS:
        return ev
    with app.app_context():
        st = state_of(app)
        try:
            at = dt.datetime.fromisoformat(ev["at"])
        except (KeyError, TypeError, ValueError):
            at = st.now()
        return with_outcome_mark(st, st.config.find(ev.get("line") or ""), ev, at)


def run_outcome_hooks(st: HotlineState, hotline, sid: str, kind: str, data: dict, at: dt.datetime) -> None:
    """Call each outcome hook of `st` for one new event; a failing hook is logged, never raised."""
    for hook in list(st.outcome_hooks):
        try:
            hook(hotline, sid, kind, data, st.redis, at)
        except Exception:  # noqa: BLE001 - a hook never breaks a call or the flush
            log.exception("outcome hook %r failed for call %s", hook, sid)


def state_of(app: Flask) -> HotlineState:
    """Return the app's HotlineState; raises KeyError for an app not made by create_app."""
    return app.extensions["hotline"]
