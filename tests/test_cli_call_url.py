"""`hotline call --url`: no server there, a URL that is not one, a server that checks another token."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ivr.cli import main
from tests.cli_helpers import hotline
from tests.examples import EXAMPLES
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
BRONDBY = str(EXAMPLES / "brondby.yaml")
WRONG = "wrong-token-0123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A `hotline serve` on the development token (no TWILIO_AUTH_TOKEN, no Redis); yields its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "HOTLINE_SPOOL_DIR": str(tmp_path_factory.mktemp("spool"))}
    env.pop("REDIS_URL", None)
    env.pop("TWILIO_AUTH_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--config", BRONDBY, "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("hotline serve did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def call(capsys, monkeypatch, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["call", "--config", BRONDBY, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_wrong_token_is_named_as_the_cause_without_the_page_or_the_token(server, capsys, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    code, out, err = call(capsys, monkeypatch, "--url", server, "--token", WRONG)
    assert code == 1
    assert "Traceback" not in out + err and "<html" not in (out + err).lower()
    assert "refused the signature" in err
    assert "signed with --token" in err
    assert "$TWILIO_AUTH_TOKEN" in err and "development token" in err
    assert WRONG not in out + err


def test_a_stray_twilio_auth_token_is_named_as_the_source(server, capsys, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", WRONG)
    code, out, err = call(capsys, monkeypatch, "--url", server)
    assert code == 1 and "Traceback" not in out + err
    assert "signed with $TWILIO_AUTH_TOKEN" in err and WRONG not in out + err


def test_the_development_token_on_both_sides_is_accepted(server, capsys, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    code, out, err = call(capsys, monkeypatch, "--url", server)  # hangs up at once (end of input)
    assert code == 0, err
    assert "says:" in out and "(you hung up)" in out


def test_call_url_where_nothing_answers(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    port = free_port()
    _, err = hotline(capsys, "call", "--config", BRONDBY, "--url", f"http://127.0.0.1:{port}", code=1)
    assert f"nothing answers at http://127.0.0.1:{port}" in err
    assert f"serve --port {port}" in err


def test_call_url_that_is_not_http(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    _, err = hotline(capsys, "call", "--config", BRONDBY, "--url", "127.0.0.1:5000", code=2)
    assert "--url '127.0.0.1:5000' is not an http(s) URL" in err


def test_call_url_with_a_port_that_is_not_one(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    for url in ("http://127.0.0.1:99999", "http://127.0.0.1:abc"):
        _, err = hotline(capsys, "call", "--config", BRONDBY, "--url", url, code=2)
        assert f"--url {url!r} is not an http(s) URL" in err
