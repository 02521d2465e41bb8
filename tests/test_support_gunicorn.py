"""Tests for tests/support/gunicorn.py: the Procfile's web line on a loopback port, stopped whole."""
from __future__ import annotations

import os
import shlex

import pytest

from tests.support.gunicorn import Gunicorn, procfile_line, procfile_web_command


def test_the_command_is_the_procfiles_web_line_bound_to_loopback():
    web = procfile_line("web")
    assert shlex.split(web)[0] == "gunicorn"
    assert procfile_web_command() == web.replace("--bind 0.0.0.0:$PORT", "--bind 127.0.0.1:$PORT")
    with pytest.raises(KeyError):
        procfile_line("nothing")


def test_it_answers_takes_extra_options_logs_and_stops_with_its_workers(redis_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(REDIS_URL=redis_url, HOTLINE_SPOOL_DIR=str(tmp_path / "spool"),
               HOTLINE_LAST_GOOD_DIR=str(tmp_path / "last-good"))
    web = Gunicorn(env, tmp_path / "gunicorn.log", args=("--workers", "1"))
    with web:
        assert web.url == f"http://127.0.0.1:{web.port}"
        pids = [web.proc.pid, *web.worker_pids()]
        assert len(pids) == 2   # the last --workers wins over the Procfile's
    assert web.proc.poll() is not None
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert f"Listening at: http://127.0.0.1:{web.port}" in web.log()
