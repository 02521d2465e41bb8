"""Tests for tests/support/redis_server.py and the redis fixtures."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
import redis

from tests.support.redis_server import MISSING_BINARY, RedisServer


def test_redis_url_points_at_a_loopback_server_without_persistence(redis_url, redis_server):
    client = redis.Redis.from_url(redis_url)
    assert redis_url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert client.ping() is True
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("bind") == {"bind": "127.0.0.1"}


def test_flushall_empties_every_database(redis_url, redis_server):
    db0 = redis.Redis.from_url(redis_url)
    db5 = redis.Redis.from_url(redis_url.replace("/0", "/5"))
    db0.set("hotline:test", "1")
    db5.set("hotline:test", "1")
    assert db0.dbsize() == 1 and db5.dbsize() == 1

    redis_server.flushall()

    assert db0.dbsize() == 0 and db5.dbsize() == 0


def test_redis_url_fixture_brings_back_a_stopped_server(redis_server, request):
    redis_server.stop()
    assert not redis_server.ping()

    url = request.getfixturevalue("redis_url")

    assert redis.Redis.from_url(url).ping() is True


def test_stop_and_start_keep_the_port_and_lose_the_data(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    port, url = redis_server.port, redis_server.url
    client.set("outage", "declared")

    redis_server.stop()
    assert not redis_server.running
    with pytest.raises(redis.ConnectionError):
        client.get("outage")

    redis_server.start()
    assert (redis_server.port, redis_server.url) == (port, url)
    assert client.get("outage") is None  # no persistence: a restart is a clean slate
    client.set("outage", "again")
    assert client.get("outage") == b"again"


def test_a_killed_server_can_be_started_again(redis_server):
    pid = redis_server._proc.pid
    redis_server.stop(kill=True)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    redis_server.start()
    assert redis_server.ping()


def test_start_while_running_keeps_the_same_process():
    with RedisServer() as server:
        pid = server._proc.pid
        assert server.start() is server
        assert server._proc.pid == pid


def test_close_ends_the_process_and_removes_the_temp_dir():
    with RedisServer() as server:
        proc, workdir = server._proc, server._dir
        assert workdir.is_dir()
    assert proc.poll() is not None
    assert not workdir.exists()
    assert not server.running


def test_missing_binary_gives_the_install_hint():
    server = RedisServer(binary="redis-server-that-does-not-exist")
    with pytest.raises(RuntimeError) as caught:
        server.start()
    assert str(caught.value) == MISSING_BINARY
    with pytest.raises(RuntimeError):
        server.port  # noqa: B018 - no port before a successful start


def test_start_fails_clearly_when_the_port_is_taken_on_restart():
    with RedisServer() as other:
        other.stop()
        # Someone else takes the port while our server is down.
        squatter = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(other.port), "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        try:
            probe = RedisServer()
            probe._port = other.port
            assert _wait_ping(probe)
            with pytest.raises(RuntimeError, match="exited during startup"):
                other.start()
        finally:
            squatter.terminate()
            squatter.wait(10)


def _wait_ping(server: RedisServer, tries: int = 200) -> bool:
    for _ in range(tries):
        if server.ping():
            return True
        time.sleep(0.02)
    return False
