"""The app makes its spool directory when it starts: a spool that cannot be made is said at start,
not found out while Redis is down, and an existing empty spool is watched from the first webhook."""
from __future__ import annotations

import logging

from ivr.app import create_app
from ivr.config.load import config_from_env


def test_the_spool_directory_is_made_at_start(tmp_path):
    spool = tmp_path / "state" / "spool"
    app = create_app(config_from_env(), redis_url="", auth_token="t", public_base_url="", spool_dir=str(spool))
    assert spool.is_dir()
    store = app.extensions["hotline"].store
    assert store.spool.events("CA" + "1" * 32) == []
    assert store.spool._empty.still_empty(), "the first look already watches the empty spool"


def test_a_spool_that_cannot_be_made_is_said_at_start_and_the_app_still_serves(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.ERROR, logger="ivr.app"):
        app = create_app(config_from_env(), redis_url="", auth_token="t", public_base_url="",
                         spool_dir=str(blocker / "spool"))
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(str(blocker / "spool") in m and "while Redis is down" in m for m in said), said
    assert app.test_client().get("/healthz").status_code in (200, 503)


def test_an_admin_command_leaves_the_spool_directory_to_the_service(tmp_path):
    # A command run by another user (root) must not make the service's spool its own.
    from ivr.cli.common import quiet_app

    spool = tmp_path / "state" / "spool"
    app = quiet_app(config_from_env(), redis_url="", spool_dir=str(spool))
    assert not spool.exists()
    app.extensions["hotline"].store.add(
        {"sid": "CA" + "2" * 32, "id": "start:start", "type": "start", "line": "+4570112230",
         "at": "2026-11-30T20:00:00+00:00"}, 1)
    assert spool.is_dir(), "a command that spools an event still makes it, as before"
