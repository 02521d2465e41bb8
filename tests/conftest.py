"""Shared fixtures: a real Redis for the session and a fake Twilio per test."""

from __future__ import annotations

import pytest

from tests.support.fake_twilio import FakeTwilio
from tests.support.twilio_spec import SPEC_ENV, spec_path
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


def spec_missing() -> str | None:
    """Return why the Twilio stand-in cannot check requests (its spec file is not there), else None."""
    path = spec_path()
    if path.is_file():
        return None
    return (f"Twilio's OpenAPI description not found at {path}: put shared/ (with twilio/) beside the "
            f"repository or set {SPEC_ENV} to the file")


# For tests that need the spec without the fake_twilio fixture.
needs_twilio_spec = pytest.mark.skipif(spec_missing() is not None, reason=str(spec_missing()))


def pytest_report_header(config):
    return f"twilio spec: {spec_missing() or spec_path()}"


def pytest_terminal_summary(terminalreporter):
    reason = spec_missing()
    if reason is None:
        return
    count = sum(reason in str(report.longrepr) for report in terminalreporter.stats.get("skipped", []))
    if count:
        terminalreporter.write_line(
            f"{count} test{' that needs' if count == 1 else 's that need'} the Twilio stand-in "
            f"{'was' if count == 1 else 'were'} skipped: {reason}", yellow=True)


@pytest.fixture
def fake_twilio():
    """A fresh FakeTwilio; the test fails if any request it got broke Twilio's spec.

    Skipped (and counted in the summary) when the spec file is missing."""
    reason = spec_missing()
    if reason:
        pytest.skip(reason)
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
def _call_stores_done_with_the_test(monkeypatch):
    """Nothing of a test's call stores reaches the shared Redis during the next test: at its end,
    what waits behind (ivr.calls.behind) is written and their spool flushers stop."""
    import weakref

    from ivr.calls.store import CallStore

    made: list = []
    real = CallStore.__init__

    def noted(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(CallStore, "__init__", noted)
    yield
    for ref in made:
        store = ref()
        if store is not None:
            store.close()


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

    # A step's kept text, filled in with the call's values: the library's str() of the same step.
    from ivr.voice import flow, render, step_cache

    kept_step = step_cache.step_text

    def checked_step(hotline, chain, index, caller_id, action, screen_url, lead=()):
        text = kept_step(hotline, chain, index, caller_id, action, screen_url, lead)
        built = str(render.step(hotline, chain, index, caller_id, action, lambda i: screen_url, tuple(lead)))
        assert text == built, f"kept step TwiML differs from the library's:\n{text}\n{built}"
        compared.append(text)
        return text

    monkeypatch.setattr(flow, "step_text", checked_step)
    yield compared
