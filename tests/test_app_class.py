"""The app's Flask class remembers ensure_sync's answer per function and gives Flask's answer."""
from __future__ import annotations

import pytest
from flask import Flask

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
