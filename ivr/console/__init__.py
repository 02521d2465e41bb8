"""The admin console: a blueprint under /admin/ (see ivr.console.web); `init_app(app)` adds it.

Kept light: the CLI imports ivr.console.accounts and ivr.console.audit without Flask views.
"""
from __future__ import annotations


def init_app(app) -> None:
    """Register the console blueprint, its CSRF protection and its cookie settings on `app`."""
    from ivr.console.web import init_app as init_web

    init_web(app)
