"""One rule for where the CLI's Redis comes from, and Redis errors that name the URL tried."""
from __future__ import annotations

import pytest

from tests.cli_helpers import hotline
from tests.examples import EXAMPLES
from tests.support.redis_server import free_port

BRONDBY = str(EXAMPLES / "brondby.yaml")
SECRET = "s3cret-pw"


@pytest.fixture
def no_server(monkeypatch):
    """Nothing ever runs: `hotline serve` prints its banner and returns."""
    import flask

    monkeypatch.setattr(flask.Flask, "run", lambda self, **kwargs: None)


@pytest.fixture(autouse=True)
def _spool(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))


NEEDS_REDIS = [
    ("outage", "list", "--config", BRONDBY),
    ("outage", "show", "1"),
    ("outage", "declare", "--config", BRONDBY, "--system", "nexus"),
    ("worker", "--burst"),
    ("call", "--config", BRONDBY, "--log", "--at", "2026-11-23T10:00"),
]


@pytest.mark.parametrize("argv", NEEDS_REDIS, ids=lambda argv: " ".join(argv[:2]))
def test_commands_that_need_redis_say_that_redis_url_is_not_set(capsys, monkeypatch, argv):
    monkeypatch.delenv("REDIS_URL", raising=False)
    _, err = hotline(capsys, *argv, code=2)
    assert "REDIS_URL is not set" in err and "REDIS_URL=redis://" in err
    assert len(err.strip().splitlines()) == 1


def test_calls_without_redis_url_shows_the_spool_and_says_so(capsys, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    out, err = hotline(capsys, "calls", code=0)
    assert "REDIS_URL is not set" in err and "spool" in err and out.strip() == "no calls"


def test_serve_without_redis_url_says_it_spools_only(capsys, monkeypatch, no_server):
    monkeypatch.delenv("REDIS_URL", raising=False)
    out, _ = hotline(capsys, "serve", "--config", BRONDBY, code=0)
    assert "REDIS_URL is not set" in out and "spool" in out


@pytest.mark.parametrize("argv", NEEDS_REDIS + [("calls",), ("serve", "--config", BRONDBY)],
                         ids=lambda argv: " ".join(argv[:2]))
def test_a_redis_url_that_is_not_one_is_refused(capsys, monkeypatch, no_server, argv):
    monkeypatch.setenv("REDIS_URL", "foo")
    _, err = hotline(capsys, *argv, code=2)
    assert "REDIS_URL 'foo' is not a Redis URL" in err and "redis://" in err


def test_serve_shows_the_redis_url_without_its_password(capsys, monkeypatch, no_server):
    monkeypatch.setenv("REDIS_URL", f"redis://:{SECRET}@127.0.0.1:{free_port()}/0")
    out, _ = hotline(capsys, "serve", "--config", BRONDBY, code=0)
    assert "redis://:***@127.0.0.1:" in out and SECRET not in out


@pytest.fixture
def dead_redis(monkeypatch):
    """REDIS_URL with a password pointing at a port where nothing listens; returns its masked form."""
    port = free_port()
    monkeypatch.setenv("REDIS_URL", f"redis://:{SECRET}@127.0.0.1:{port}/0")
    return f"redis://:***@127.0.0.1:{port}/0"


@pytest.mark.parametrize("argv", [("outage", "list", "--config", BRONDBY), ("outage", "show", "1")],
                         ids=["list", "show"])
def test_read_only_outage_commands_name_the_url_and_change_nothing_to_say(capsys, dead_redis, argv):
    _, err = hotline(capsys, *argv, code=1)
    assert f"cannot reach Redis at {dead_redis}" in err
    assert SECRET not in err and "nothing was changed" not in err


def test_declare_names_the_url_and_says_nothing_changed(capsys, dead_redis):
    _, err = hotline(capsys, "outage", "declare", "--config", BRONDBY, "--system", "nexus", code=1)
    assert f"cannot reach Redis at {dead_redis}" in err and "nothing was changed" in err
    assert SECRET not in err


def test_worker_names_the_url(capsys, dead_redis):
    _, err = hotline(capsys, "worker", "--burst", code=1)
    assert f"cannot reach Redis at {dead_redis}" in err and SECRET not in err


def test_call_log_names_the_url_and_does_not_start_the_call(capsys, monkeypatch, dead_redis):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    out, err = hotline(capsys, "call", "--config", BRONDBY, "--log", "--at", "2026-11-23T10:00", code=1)
    assert err == f"hotline: cannot reach Redis at {dead_redis} (" + err.split(" (", 1)[1]
    assert err.count("\n") == 1 and SECRET not in err and "Calling" not in out


def test_calls_names_the_url_and_falls_back_to_the_spool(capsys, dead_redis):
    out, err = hotline(capsys, "calls", code=1)
    assert f"cannot reach Redis at {dead_redis}" in err and SECRET not in err
    assert "spool" in err and out.strip() == "no calls"


def test_calls_redis_url_option_is_masked_too(capsys, monkeypatch):
    port = free_port()
    _, err = hotline(capsys, "calls", "--redis-url", f"redis://admin:{SECRET}@127.0.0.1:{port}/0", code=1)
    assert f"redis://admin:***@127.0.0.1:{port}/0" in err and SECRET not in err


def test_a_reachable_redis_works_through_the_same_rule(capsys, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    out, _ = hotline(capsys, "outage", "list", "--config", BRONDBY, code=0)
    assert "no outages on +4570112230" in out
    hotline(capsys, "calls", code=0)


@pytest.mark.parametrize("url, shown", [
    ("redis://localhost:6379/0", "redis://localhost:6379/0"),
    (f"redis://:{SECRET}@h:6379/0", "redis://:***@h:6379/0"),
    (f"rediss://user:{SECRET}@h/1", "rediss://user:***@h/1"),
    (f"redis://h:6379/0?password={SECRET}&db=1", "redis://h:6379/0?password=***&db=1"),
    (f"unix:///run/redis.sock?password={SECRET}", "unix:///run/redis.sock?password=***"),
])
def test_masked_urls(url, shown):
    from ivr.cli.redis_env import mask

    assert mask(url) == shown


@pytest.mark.parametrize("verb", ["declare", "restore"])
def test_an_unknown_system_is_a_bad_argument_found_before_redis(capsys, monkeypatch, verb):
    monkeypatch.delenv("REDIS_URL", raising=False)
    _, err = hotline(capsys, "outage", verb, "--config", BRONDBY, "--system", "nope", code=2)
    assert err == "hotline: unknown system 'nope' (known: network, nexus)\n"


@pytest.mark.parametrize("argv, env_url", [(("--config", BRONDBY), False), ((), False),
                                           (("--config", BRONDBY, "--no-redis"), True)],
                         ids=["config", "default", "no-redis"])
def test_serve_banner_says_how_to_list_its_calls(capsys, monkeypatch, tmp_path, no_server, argv, env_url):
    """The banner's `hotline calls` command reads the spool this server writes (each deployment has its own)."""
    import shlex

    monkeypatch.delenv("HOTLINE_SPOOL_DIR")
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    if env_url:
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
    out, _ = hotline(capsys, "serve", *argv, code=0)
    spool = out.split("call records only spool to ")[1].split()[0]
    (listing,) = [line for line in out.splitlines() if line.startswith("  calls ")]
    label, command = listing.split(None, 1)          # "calls", then the command to type
    words = shlex.split(command)
    words = words[words.index("calls") + 1:]
    monkeypatch.delenv("REDIS_URL", raising=False)
    _, err = hotline(capsys, "calls", *words, code=0)
    assert f"spool {spool}" in err


@pytest.mark.parametrize("argv", [("serve", "--config", BRONDBY), ("calls",)], ids=["serve", "calls"])
def test_a_spool_dir_that_is_a_file_is_refused(capsys, monkeypatch, tmp_path, no_server, argv):
    monkeypatch.delenv("REDIS_URL", raising=False)
    not_a_dir = tmp_path / "spool-file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(not_a_dir))
    out, err = hotline(capsys, *argv, code=2)
    assert err == f"hotline: HOTLINE_SPOOL_DIR {not_a_dir} is not a directory\n" and out == ""
