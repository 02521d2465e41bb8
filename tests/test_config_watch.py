"""A saved edit of HOTLINE_CONFIG reaches the running app without a restart; a refused one never
replaces what is served. Unit level (check() by hand) and real processes (gunicorn as the
Procfile starts it, two workers, answering throughout)."""
from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from ivr.app import create_app, state_of
from ivr.config.watch import ConfigWatcher, every_from_env, fingerprint
from tests.examples import EXAMPLES
from tests.support.gunicorn import Gunicorn
from tests.test_config_reload_gunicorn import AUTH_TOKEN, PUBLIC_BASE_URL, call, first_prompt, health

OREBRO = (EXAMPLES / "orebro.yaml").read_text(encoding="utf-8")
WELCOME = "Välkommen till Kommunsupport"
EDITED = "Välkommen till den nya supporten"
BROKEN = OREBRO + "\nbogus_field: 1\n"      # refused: an unknown field


def _app(tmp_path, monkeypatch, watch: str = "0"):
    live = tmp_path / "orebro.yaml"
    live.write_text(OREBRO, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(live))
    monkeypatch.setenv("HOTLINE_CONFIG_WATCH", watch)
    monkeypatch.setenv("HOTLINE_LAST_GOOD_DIR", str(tmp_path / "last-good"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app(spool_dir=str(tmp_path / "spool"))
    return app, live


def _save(path, text: str) -> None:
    """Save like an editor: a new file put in place, so size or time differ from the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_an_edit_that_loads_replaces_the_served_config_and_a_refused_one_never_does(tmp_path, monkeypatch):
    app, live = _app(tmp_path, monkeypatch)
    state = state_of(app)
    refused = app.extensions["hotline.config_refused"]
    watcher = ConfigWatcher(state, live, str(tmp_path / "last-good"), refused)
    first = state.config
    assert watcher.check() == "unchanged"
    assert WELCOME in OREBRO
    _save(live, OREBRO.replace(WELCOME, EDITED))
    assert watcher.check() == "settling" and state.config is first
    assert watcher.check() == "reloaded"
    edited = state.config
    assert edited.version != first.version and edited.lines()[0].menu.prompt.startswith(EDITED)
    assert watcher.check() == "unchanged"

    _save(live, BROKEN)
    assert watcher.check() == "settling"
    assert watcher.check() == "refused"
    assert state.config is edited and refused and "bogus_field" in str(refused[0])
    assert watcher.check() == "unchanged", "one refusal per saved version"

    _save(live, OREBRO)
    assert [watcher.check(), watcher.check()] == ["settling", "reloaded"]
    assert state.config.version == first.version and not refused
    served = state.config
    time.sleep(0.01)
    _save(live, OREBRO)                            # saved again, the same bytes: nothing to swap
    assert [watcher.check(), watcher.check()] == ["settling", "same"] and state.config is served


def test_an_edit_of_several_files_is_loaded_whole_once_they_stop_changing(tmp_path, monkeypatch):
    # A directory of hotline files: the admin saves one, then the other. Loading after the first
    # alone would serve a half-made change (it may load); the watcher waits until a look finds the
    # files as the look before did.
    directory = tmp_path / "config"
    directory.mkdir()
    brondby = (EXAMPLES / "brondby.yaml").read_text(encoding="utf-8")
    (directory / "orebro.yaml").write_text(OREBRO, encoding="utf-8")
    (directory / "brondby.yaml").write_text(brondby, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(directory))
    monkeypatch.setenv("HOTLINE_CONFIG_WATCH", "0")
    monkeypatch.setenv("HOTLINE_LAST_GOOD_DIR", str(tmp_path / "last-good"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app(spool_dir=str(tmp_path / "spool"))
    state = state_of(app)
    watcher = ConfigWatcher(state, directory, str(tmp_path / "last-good"), app.extensions["hotline.config_refused"])
    first = state.config
    _save(directory / "orebro.yaml", OREBRO.replace(WELCOME, EDITED))
    assert watcher.check() == "settling"
    _save(directory / "brondby.yaml", brondby + "\n# edited too\n")   # the second file, a moment later
    assert watcher.check() == "settling" and state.config is first
    assert watcher.check() == "reloaded"
    assert any(h.menu.prompt.startswith(EDITED) for h in state.config.lines())
    assert len(state.config.lines()) == len(first.lines())


def test_the_app_watches_by_itself_and_stops_when_it_is_gone(tmp_path, monkeypatch):
    app, live = _app(tmp_path, monkeypatch, watch="0.05")
    state = state_of(app)
    _save(live, OREBRO.replace(WELCOME, EDITED))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not state.config.lines()[0].menu.prompt.startswith(EDITED):
        time.sleep(0.05)
    assert state.config.lines()[0].menu.prompt.startswith(EDITED)
    watchers = [t for t in threading.enumerate() if t.name == "hotline-config-watch"]
    assert watchers
    del app, state
    import gc

    gc.collect()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(t.is_alive() for t in watchers):
        time.sleep(0.05)
    assert not any(t.is_alive() for t in watchers)


def test_no_watching_for_a_config_passed_in_or_when_turned_off(tmp_path, monkeypatch):
    app, _ = _app(tmp_path, monkeypatch, watch="0")
    assert "hotline.config_watch" not in app.extensions
    monkeypatch.setenv("HOTLINE_CONFIG_WATCH", "soon")
    assert every_from_env() == 2.0
    assert fingerprint(tmp_path / "missing.yaml") == ()


def _reloads(web) -> int:
    """Return how many times a worker of `web` logged that it loaded an edited config."""
    return web.log().count("HOTLINE_CONFIG reloaded: version")


def test_gunicorn_workers_pick_up_an_edit_without_a_restart_and_answer_throughout(tmp_path):
    live = tmp_path / "orebro.yaml"
    shutil.copyfile(EXAMPLES / "orebro.yaml", live)
    env = {**os.environ, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
           "HOTLINE_LAST_GOOD_DIR": str(tmp_path / "last-good"), "HOTLINE_SPOOL_DIR": str(tmp_path / "spool"),
           "HOTLINE_CONFIG_WATCH": "0.5"}
    env.pop("REDIS_URL", None)
    with Gunicorn(env, tmp_path / "gunicorn.log", config=live) as web:
        pids = web.worker_pids() if hasattr(web, "worker_pids") else None
        status, body = call(web, 1)
        assert status == 200 and WELCOME in first_prompt(body)
        _save(live, OREBRO.replace(WELCOME, EDITED))
        seen, n, deadline = set(), 2, time.monotonic() + 60
        # Several edited answers in a row, and every worker's watcher said it reloaded: answers
        # alone may all come from one worker, and a worker still on the old config when the broken
        # edit lands would (rightly) go on serving the old one.
        while time.monotonic() < deadline and (len(seen) < 6 or _reloads(web) < len(pids)):
            status, body = call(web, n)
            n += 1
            assert status == 200, body
            if EDITED in first_prompt(body):
                seen.add(n)
            else:
                seen.clear()
            time.sleep(0.05)
        assert len(seen) >= 6 and _reloads(web) >= len(pids), f"the edit never reached every worker; log:\n{web.log(3000)}"
        _save(live, BROKEN)
        shown, deadline = health(web), time.monotonic() + 60   # a loaded machine delays the watchers' looks
        while time.monotonic() < deadline and shown["config_refused"] < 1:
            status, body = call(web, n)
            n += 1
            assert status == 200 and EDITED in first_prompt(body), "a refused edit replaced the config"
            time.sleep(0.1)
            shown = health(web)
        assert shown["config_refused"] >= 1 and shown["status"] == "degraded"
        time.sleep(2.0)                                         # several more looks by every worker
        for m in range(n, n + 10):
            status, body = call(web, m)
            assert status == 200 and EDITED in first_prompt(body), "a refused edit replaced the config"
        if pids is not None:
            assert web.worker_pids() == pids, "the workers were restarted"
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "HOTLINE_CONFIG reloaded" in log and "HOTLINE_CONFIG REFUSED after an edit" in log
    assert "Traceback" not in log
