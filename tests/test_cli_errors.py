"""Admin mistakes end in one clear line and the right exit code, never a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.cli import main
from tests.cli_helpers import hotline
from tests.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
BRONDBY = str(EXAMPLES / "brondby.yaml")


# -- arguments and prompts ---------------------------------------------------------------------

def test_worker_log_level_is_a_choice(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["worker", "--log-level", "LOUD"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'LOUD'" in err and "Traceback" not in err


def test_hash_pin_at_end_of_input_says_no_pin_was_given():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "ivr.cli", "outage", "hash-pin"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                          start_new_session=True)  # no terminal: getpass reads the (empty) stdin
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "hotline: no PIN given" in proc.stderr


def test_hash_pin_refuses_a_pin_that_is_not_one_before_asking_again():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "ivr.cli", "outage", "hash-pin"], cwd=ROOT, env=env,
                          input="12\n12\n", capture_output=True, text=True, timeout=60,
                          start_new_session=True)  # no terminal: getpass reads stdin (and may echo)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.endswith("hotline: a PIN is 4 to 12 digits\n")
    assert "again:" not in proc.stderr + proc.stdout
    assert "GetPassWarning" not in proc.stderr and "getpass.py" not in proc.stderr


def test_check_json_prints_the_errors_as_json(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(BRONDBY).read_text(encoding="utf-8").replace('number: "4328 2020"',
                                                                         'number: "4328 20"', 1), encoding="utf-8")
    out, _ = hotline(capsys, "check", "--config", str(broken), "--json", code=2)
    data = json.loads(out)
    assert data["ok"] is False
    (error,) = data["errors"]
    assert error["file"] == str(broken) and isinstance(error["line"], int)
    assert error["field"] == "contacts.nexus_team.number"
    assert "not a valid phone number for DK" in error["message"]
    out, _ = hotline(capsys, "check", "--config", str(tmp_path / "missing.yaml"), "--json", code=2)
    assert json.loads(out)["errors"][0]["line"] is None


def test_check_json_of_a_good_config_says_ok(capsys):
    out, _ = hotline(capsys, "check", "--config", BRONDBY, "--json", code=0)
    assert json.loads(out)["ok"] is True


# -- an unexpected failure -----------------------------------------------------------------------

def test_an_unexpected_exception_is_one_line_with_where_to_look(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("ivr.cli.check.run", boom)
    monkeypatch.delenv("HOTLINE_DEBUG", raising=False)
    _, err = hotline(capsys, "check", code=1)
    assert err.strip() == ("hotline: internal error: RuntimeError: disk on fire "
                           "(set HOTLINE_DEBUG=1 to see the traceback)")
    monkeypatch.setenv("HOTLINE_DEBUG", "1")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "disk on fire" in err


# -- environment that is not what it should be ---------------------------------------------------

def test_a_port_that_is_not_one_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("PORT", "abc")
    _, err = hotline(capsys, "check", "--config", BRONDBY, code=0)  # PORT only matters to serve
    _, err = hotline(capsys, "serve", "--config", BRONDBY, code=2)
    assert "PORT 'abc' is not a port" in err
    monkeypatch.delenv("PORT")
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--config", BRONDBY, "--port", "99999"])
    assert stop.value.code == 2 and "99999 is not a port (1-65535)" in capsys.readouterr().err


def test_worker_maintenance_seconds_that_are_not_a_number(capsys, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_WORKER_MAINTENANCE_SECONDS", "often")
    _, err = hotline(capsys, "worker", "--burst", code=2)
    assert "HOTLINE_WORKER_MAINTENANCE_SECONDS 'often' is not a whole number of seconds" in err


def test_worker_for_a_queue_the_hotline_never_uses_refuses_to_start(capsys, monkeypatch, redis_url):
    # A typo in --queue would leave a worker waiting on a queue nobody fills, while the blasts wait.
    monkeypatch.setenv("REDIS_URL", redis_url)
    _, err = hotline(capsys, "worker", "--burst", "--queue", "sms", "--queue", "smss", code=2)
    assert "no job of the hotline goes to queue 'smss'" in err and "sms, default" in err
    assert "Traceback" not in err


def test_worker_without_twilio_credentials_refuses_to_start(capsys, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    _, err = hotline(capsys, "worker", "--burst", code=2)
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in err and "not set" in err


def test_an_unexpected_exception_with_a_multiline_message_stays_one_line(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("unacceptable character\n  in \"x.yaml\", position 4")

    monkeypatch.setattr("ivr.cli.check.run", boom)
    monkeypatch.delenv("HOTLINE_DEBUG", raising=False)
    _, err = hotline(capsys, "check", code=1)
    assert err == ('hotline: internal error: RuntimeError: unacceptable character in "x.yaml", position 4 '
                   "(set HOTLINE_DEBUG=1 to see the traceback)\n")


# -- hotline serve: where it listens and the URL it checks signatures against -----------------------

@pytest.fixture
def never_served(monkeypatch):
    """`hotline serve` returns where it would start serving."""
    import flask

    monkeypatch.setattr(flask.Flask, "run", lambda self, **kwargs: None)


def test_serve_on_a_port_in_use_says_so_before_its_banner(capsys, monkeypatch, never_served):
    import socket

    monkeypatch.delenv("REDIS_URL", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = hotline(capsys, "serve", "--config", BRONDBY, "--port", str(port), code=1)
    assert out == ""
    assert err.startswith(f"hotline: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1
    assert "another program listens there" in err and "--port" in err


def test_serve_on_a_host_that_is_not_one(capsys, monkeypatch, never_served):
    monkeypatch.delenv("REDIS_URL", raising=False)
    out, err = hotline(capsys, "serve", "--config", BRONDBY, "--host", "999.1.1.1", "--port", "5999", code=1)
    assert out == "" and err.startswith("hotline: cannot listen on 999.1.1.1:5999: ")


@pytest.mark.parametrize("url", ["foo", "127.0.0.1:5000", "ftp://example.org"])
def test_serve_public_url_that_is_not_http_is_refused(capsys, monkeypatch, never_served, url):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    _, err = hotline(capsys, "serve", "--config", BRONDBY, "--public-url", url, code=2)
    assert err == f"hotline: --public-url {url!r} is not an http(s) URL like https://hotline.example.org\n"
    monkeypatch.setenv("PUBLIC_BASE_URL", url)
    _, err = hotline(capsys, "serve", "--config", BRONDBY, code=2)
    assert err == f"hotline: PUBLIC_BASE_URL {url!r} is not an http(s) URL like https://hotline.example.org\n"


@pytest.mark.parametrize("argv", [("calls",), ("outage", "list", "--config", BRONDBY)], ids=["calls", "outage list"])
@pytest.mark.parametrize("limit", ["0", "-5", "many"])
def test_a_limit_that_is_not_a_count_is_refused(capsys, argv, limit):
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--limit", limit])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"argument --limit: {limit} is not a whole number of 1 or more" in err


def test_a_refused_config_from_the_environment_says_it_came_from_there(capsys, monkeypatch, tmp_path):
    missing = tmp_path / "hotline"
    monkeypatch.setenv("HOTLINE_CONFIG", str(missing))
    _, err = hotline(capsys, "route", "--keys", "1", "--at", "2026-12-24T10:00", code=2)
    assert err == f"hotline: config refused (HOTLINE_CONFIG={missing}):\n  {missing}: no such file or directory\n"
    _, err = hotline(capsys, "check", "--config", str(missing), code=2)  # --config wins and is named by itself
    assert err.startswith("hotline: config refused:\n")


@pytest.mark.parametrize("typed", ["abc", "nexus", "+45 7011 22x0"])
def test_calls_line_that_is_not_a_number_is_refused(capsys, monkeypatch, tmp_path, typed):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))
    _, err = hotline(capsys, "calls", "--config", BRONDBY, "--line", typed, code=2)
    assert err == f"hotline: --line {typed!r} is not a phone number (the hotline's number, e.g. +4570112230)\n"
