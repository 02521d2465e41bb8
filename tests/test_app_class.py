"""The app's Flask class remembers ensure_sync's answer per function and gives Flask's answer;
its sessions open as Flask's own."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from ivr.app import HotlineFlask


def test_plain_functions_are_given_back_and_remembered():
    app = HotlineFlask("t")

    def view():
        return "ok"

    assert app.ensure_sync(view) is view is Flask("t").ensure_sync(view)
    assert app._sync == {view: view}
    assert app.ensure_sync(view) is view


def test_a_coroutine_function_gets_flasks_answer_every_time():
    app, plain = HotlineFlask("t"), Flask("t")

    async def view():
        return "ok"

    try:
        expected = plain.ensure_sync(view)
    except RuntimeError as exc:   # Flask without its async extra refuses coroutine views
        with pytest.raises(RuntimeError, match=str(exc)[:20]):
            app.ensure_sync(view)
    else:
        assert app.ensure_sync(view) is not view and expected is not view


def test_an_unhashable_callable_is_asked_about_each_time():
    class Unhashable:
        __hash__ = None

        def __call__(self):
            return "ok"

    app, thing = HotlineFlask("t"), Unhashable()
    assert app.ensure_sync(thing) is thing and app._sync == {}


def test_functions_made_per_request_do_not_grow_the_memory_without_bound():
    app = HotlineFlask("t")
    for _ in range(HotlineFlask.SYNC_KEPT * 3):
        def after(response):   # as after_this_request makes one per request
            return response
        assert app.ensure_sync(after) is after
    assert len(app._sync) == HotlineFlask.SYNC_KEPT


@pytest.mark.parametrize("secret", [None, "k" * 40])
@pytest.mark.parametrize("cookie", [None, "", "other=1", "hotline_console=forged", "SIGNED"])
def test_sessions_open_as_flasks_own_with_or_without_a_cookie(secret, cookie):
    from werkzeug.test import EnvironBuilder

    from ivr.app import CookieSessions

    def app_with(interface):
        app = Flask(__name__)
        app.config.update(SECRET_KEY=secret, SESSION_COOKIE_NAME="hotline_console")
        app.session_interface = interface
        return app

    ours, flasks = app_with(CookieSessions()), app_with(SecureCookieSessionInterface())
    if cookie == "SIGNED":
        if secret is None:
            return
        cookie = "hotline_console=" + flasks.session_interface.get_signing_serializer(flasks).dumps({"user": "a"})
    headers = {} if cookie is None else {"Cookie": cookie}
    environ = EnvironBuilder(path="/voice", method="POST", headers=headers).get_environ()
    if cookie is None:
        assert "HTTP_COOKIE" not in environ
    opened = [app.session_interface.open_session(app, app.request_class(environ)) for app in (ours, flasks)]
    assert type(opened[0]) is type(opened[1]) and opened[0] == opened[1]
    if opened[0] is not None:
        assert opened[0].modified == opened[1].modified and opened[0].new == opened[1].new


def test_the_app_uses_cookie_sessions():
    from ivr.app import CookieSessions, HotlineFlask

    assert isinstance(HotlineFlask("x").session_interface, CookieSessions)
