"""The console blueprint: sign-in, sessions, roles, CSRF, security headers and page helpers.

Security settings (see docs/console.md):
- HOTLINE_SECRET_KEY signs the session cookie. Without it /admin/ answers 503, unless
  HOTLINE_DEVELOPMENT=1 (a random key per process, logged loudly; sessions end at restart).
- The session cookie is limited to /admin, HttpOnly, SameSite=Lax, and Secure when the app's
  public base URL (PUBLIC_BASE_URL) is https (or HOTLINE_CONSOLE_SECURE_COOKIES=1).
- Sessions end after HOTLINE_CONSOLE_IDLE_MINUTES without a request (30) and at the latest
  HOTLINE_CONSOLE_SESSION_HOURS after sign-in (12), measured on the app's clock.
- Every POST under /admin/ needs a CSRF token (Flask-WTF); the Twilio webhooks are not touched.
- HOTLINE_PROXY_HOPS: how many trusted proxies append to X-Forwarded-For (default 0: the socket's
  address counts for the per-address sign-in limit and the audit log).
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import secrets

from flask import (Blueprint, Flask, Response, abort, current_app, flash, g, redirect, render_template,
                   request, session, url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect
from redis import Redis, RedisError
from werkzeug.exceptions import RequestEntityTooLarge

from ivr.console import audit, i18n, signin_limit
from ivr.console.accounts import AccountStore, Role
from ivr.webhook_guard import MAX_BODY_BYTES

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self' https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_OPEN_ENDPOINTS = {"console.login", "console.static"}


def state():
    """Return the app's HotlineState (ivr.app)."""
    return current_app.extensions["hotline"]


def redis() -> Redis:
    """Return the app's Redis client; the console is refused (503) without one, see before_request."""
    return state().redis


def now() -> dt.datetime:
    """Return the app's clock (aware UTC); tests pass their own to create_app(now=...)."""
    return state().now()


def _(text: str) -> str:
    """Return `text` in the request's language."""
    return i18n.translate(getattr(g, "lang", "en"), text)


def client_address() -> str:
    """Return the address the request came from, for rate limits and the audit log.

    X-Forwarded-For is believed only as far as HOTLINE_PROXY_HOPS trusted proxies (default 0)
    wrote it: each appends the address it saw, so the entry that many places from the right is the
    client's; anything further left could be forged by the client.
    """
    try:
        hops = max(0, int(os.environ.get("HOTLINE_PROXY_HOPS") or 0))
    except ValueError:
        hops = 0
    seen = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if hops and len(seen) >= hops:
        return seen[-hops][:64]
    return (request.remote_addr or "?")[:64]


def record(action: str, detail: str) -> None:
    """Add a change made by the signed-in user to the audit log."""
    audit.record(redis(), g.user, action, detail, client_address(), now())


def admin_only(view):
    """Refuse (403) a view to accounts that are not admins."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.role is not Role.ADMIN:
            return render_template("refused.html", message=_("Only admins see this page")), 403
        return view(*args, **kwargs)
    return wrapped


def _minutes(name: str, default: float) -> dt.timedelta:
    try:
        return dt.timedelta(minutes=float(os.environ.get(name) or default))
    except ValueError:
        return dt.timedelta(minutes=default)


@bp.before_request
def _gate():
    g.lang = i18n.pick(request.accept_languages)
    g.user, g.role = None, None
    if not current_app.config.get("HOTLINE_CONSOLE_READY"):
        return Response("The console is off: set HOTLINE_SECRET_KEY (see docs/console.md).", 503,
                        mimetype="text/plain")
    if redis() is None:
        return Response("The console needs Redis: set REDIS_URL.", 503, mimetype="text/plain")
    if request.method == "POST":
        csrf.protect()
    if request.endpoint in _OPEN_ENDPOINTS:
        return None
    user = session.get("user")
    if not user:
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    moment = now().timestamp()
    idle = _minutes("HOTLINE_CONSOLE_IDLE_MINUTES", 30).total_seconds()
    longest = _minutes("HOTLINE_CONSOLE_SESSION_HOURS", 12).total_seconds() * 60
    if moment - session.get("seen", 0) > idle or moment - session.get("since", 0) > longest:
        session.clear()
        flash(_("Your session has expired; sign in again"))
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    try:
        account = AccountStore(redis()).get(user)
    except RedisError:
        return Response("Redis is unreachable.", 503, mimetype="text/plain")
    if account is None:  # removed (or its role changed to nonsense) since signing in
        session.clear()
        return redirect(url_for("console.login"))
    session["seen"] = moment
    g.user, g.role = account.name, account.role
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = getattr(g, "lang", "en")
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(exc: CSRFError):
    return render_template("refused.html", message=exc.description), 400


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge):
    # The app takes no body over ivr.webhook_guard's cap (nginx the same): say so in the console.
    return render_template("refused.html", message=(
        f"What was sent is larger than the {MAX_BODY_BYTES // 1024} KB a request to the hotline may carry "
        "(a hotline file is a few KB).")), 413


@bp.errorhandler(RedisError)
def _redis_failed(exc: RedisError):
    log.error("console: Redis failed: %s", exc)
    return render_template("refused.html", message="Redis is unreachable; try again shortly."), 503


@bp.app_template_global()
def tr(text: str) -> str:
    """Jinja: `tr("Sign in")` in the request's language."""
    return _(text)


@bp.app_template_global()
def kind_label(route: str) -> str:
    """Jinja: a route kind as words ("on_call" -> "on call"), for tr()."""
    return route.replace("_", " ")


@bp.app_template_global()
def local_time(iso: str | None, hotline=None) -> str:
    """Jinja: an ISO time as "2026-12-24 22:00 CET" in the hotline's zone (UTC without a hotline)."""
    if not iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment.astimezone(hotline.tz if hotline is not None else dt.timezone.utc):%Y-%m-%d %H:%M %Z}"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin/") and not target.startswith("//"):
        return target
    return url_for("console.now_page")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """GET: the sign-in form; POST: check the password (rate limited per account and address)."""
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    user = (request.form.get("user") or "").strip().lower()[:64]
    password = request.form.get("password") or ""
    address = client_address()
    r = redis()
    if signin_limit.blocked(r, user, address):
        audit.record(r, user or "?", "sign-in refused", "rate limited", address, now())
        return render_template("login.html", error=_("Too many attempts; try again later"),
                               next=request.form.get("next", "")), 429
    account = AccountStore(r).verify(user, password)
    if account is None:
        signin_limit.failed(r, user, address)
        audit.record(r, user or "?", "sign-in failed", "", address, now())
        return render_template("login.html", error=_("Wrong user or password"),
                               next=request.form.get("next", "")), 401
    signin_limit.succeeded(r, user)
    session.clear()
    moment = now().timestamp()
    session.update(user=account.name, since=moment, seen=moment)
    audit.record(r, account.name, "sign-in", account.role.value, address, now())
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """End the session."""
    record("sign-out", "")
    session.clear()
    flash(_("Signed out"))
    return redirect(url_for("console.login"))


def init_app(app: Flask) -> None:
    """Register the blueprint, CSRF (for /admin/ only) and the session cookie settings."""
    from ivr.console import pages_calls, pages_config, pages_incidents, pages_now, pages_outages  # noqa: F401 - routes

    secret = os.environ.get("HOTLINE_SECRET_KEY") or ""
    ready = True
    if not secret:
        if os.environ.get("HOTLINE_DEVELOPMENT", "") in ("1", "true", "yes"):
            secret = secrets.token_hex(32)
            log.warning("HOTLINE_SECRET_KEY is not set: the admin console uses a random key for this process "
                        "(HOTLINE_DEVELOPMENT=1); sessions end when it restarts. Never run it like this in production.")
        else:
            ready = False
            log.warning("HOTLINE_SECRET_KEY is not set: the admin console under /admin/ is off (answers 503)")
    elif len(secret) < 32:
        log.warning("HOTLINE_SECRET_KEY is shorter than 32 characters: use a long random value")
    base = app.extensions["hotline"].public_base_url or ""
    secure = base.startswith("https://") or os.environ.get("HOTLINE_CONSOLE_SECURE_COOKIES", "") in ("1", "true", "yes")
    app.config.update(
        SECRET_KEY=secret or None, HOTLINE_CONSOLE_READY=ready,
        SESSION_COOKIE_NAME="hotline_console", SESSION_COOKIE_PATH="/admin", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_CHECK_DEFAULT=False,  # only the console's POSTs are checked (in before_request)
        WTF_CSRF_TIME_LIMIT=None,      # the token lives as long as the session, which expires itself
        MAX_CONTENT_LENGTH=app.config.get("MAX_CONTENT_LENGTH") or 2 * 1024 * 1024,
    )
    app.extensions["hotline.console_loaded_at"] = app.extensions["hotline"].now()
    csrf.init_app(app)
    app.register_blueprint(bp)


def back(endpoint: str, **values) -> Response:
    """Return a redirect to a console page (after a POST)."""
    return redirect(url_for(endpoint, **values))


__all__ = ["bp", "abort", "admin_only", "back", "now", "record", "redis", "state", "_"]
