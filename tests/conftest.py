"""Shared fixtures: a real Redis for the session and a fake Twilio per test."""

from __future__ import annotations

import pytest

from tests.support.fake_twilio import FakeTwilio
from tests.support.redis_server import RedisServer

pytest_plugins = ("pytester",)  # lets tests run pytest on small generated test files


@pytest.fixture(scope="session")
def redis_server():
    """One redis-server for the whole session (tests may stop/start it)."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The session Redis's URL, running again if a test stopped it, every db empty."""
    redis_server.start()
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def fake_twilio():
    """A fresh FakeTwilio; the test fails if any request it got broke Twilio's spec."""
    with FakeTwilio() as server:
        yield server
    server.assert_no_violations()


@pytest.fixture
def voice_app(redis_url, tmp_path):
    """A factory: voice_app(config=None, at=None) -> tests.support.voice.VoiceApp on the session Redis."""
    from tests.support.voice import make_voice_app

    def make(config=None, at=None, **overrides):
        return make_voice_app(redis_url, tmp_path / "spool", config, at, **overrides)

    return make


@pytest.fixture(autouse=True)
def _last_good_config_in_tmp(tmp_path, monkeypatch):
    """Keep the app's last-good config copy inside the test's tmp dir, never in $HOME."""
    monkeypatch.setenv("HOTLINE_LAST_GOOD_DIR", str(tmp_path / "last-good-config"))


@pytest.fixture(autouse=True)
def twiml_as_the_library_writes_it(monkeypatch):
    """Every TwiML answer an in-process app gives in any test: the hand-written serialiser's text
    must equal the twilio library's str(). Yields the list of texts compared."""
    from ivr.voice import twiml_text

    compared: list[str] = []
    fast = twiml_text.to_text

    def checked(resp):
        text = fast(resp)
        assert text == str(resp), f"TwiML text differs from the library's:\n{text}\n{resp}"
        compared.append(text)
        return text

    monkeypatch.setattr(twiml_text, "to_text", checked)
    yield compared
