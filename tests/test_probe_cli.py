"""`hotline probe` when it cannot probe: one line, exit 2 for config/arguments/environment, exit 1
when Twilio refuses, the call is not answered, or nothing logged it."""
from __future__ import annotations

import pytest

from ivr.cli import main
from tests.support.fake_twilio import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.support.redis_server import free_port
from tests.test_probe_call import LINE, config_dir


@pytest.fixture
def env(monkeypatch, fake_twilio, tmp_path, redis_url):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TEST_ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake_twilio.base_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    return fake_twilio


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["probe", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("unset, words", [
    ("PUBLIC_BASE_URL", "hotline: PUBLIC_BASE_URL is not set: give the app's public URL (--url)"),
    ("REDIS_URL", "hotline: REDIS_URL is not set"),
    ("TWILIO_AUTH_TOKEN", "hotline: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set"),
])
def test_missing_settings_are_named_with_exit_2(tmp_path, env, capsys, monkeypatch, unset, words):
    monkeypatch.delenv(unset)
    code, out, err = run(capsys, "--config", str(config_dir(tmp_path / "c")))
    assert (code, out) == (2, "") and err.startswith(words) and err.count("\n") == 1
    assert env.calls == []


def test_a_line_without_a_probe_section_or_keys_that_lead_nowhere_exit_2(tmp_path, env, capsys):
    code, out, err = run(capsys, "--config", "examples/brondby.yaml")
    assert code == 2 and err == "hotline: no hotline in this config has a probe: section (see docs/probe.md)\n"
    code, out, err = run(capsys, "--config", "examples/brondby.yaml", "--line", LINE)
    assert code == 2 and "+4570112230 has no probe: section" in err
    code, out, err = run(capsys, "--config", str(config_dir(tmp_path / "c")), "--keys", "5")
    assert code == 2 and "key '5' is not an option at the top menu" in err
    assert env.calls == []


def test_twilio_refusing_the_call_fails_the_probe(tmp_path, env, capsys):
    env.fail_next(1, status=400, code=21211, operation="CreateCall")
    code, out, err = run(capsys, "--config", str(config_dir(tmp_path / "c")))
    assert code == 1 and out.startswith(f"probe {LINE} FAILED: Twilio refused the call: 400 21211")


def test_a_call_that_never_ends_fails_the_probe(tmp_path, env, capsys):
    env.drive_calls = False  # stays queued, as when Twilio cannot place it
    code, out, err = run(capsys, "--config", str(config_dir(tmp_path / "c")), "--wait", "2")
    assert code == 1 and "was still 'queued' after 2 s" in out


def test_a_call_nobody_logged_fails_the_probe(tmp_path, env, capsys):
    code, out, err = run(capsys, "--config", str(config_dir(tmp_path / "c")), "--wait", "5")
    assert code == 1, out + err
    assert "the call ended (completed) but the hotline logged no probe call" in out
    [call] = env.calls
    assert env.wait_for_call(call["sid"], 5).errors[0].startswith("POST ")
