"""The gate packs a command itself (hiredis, the name split once): the bytes Redis gets are the
ones redis-py's own packing of the same command gives, for the call log's script arguments too."""
from __future__ import annotations

import datetime as dt

import pytest
import redis
from redis.connection import Encoder, HiredisRespSerializer, PythonRespSerializer

from ivr.calls.append import DAY, append_arguments, follow_up
from ivr.calls.events import event
from ivr.calls.gate import pack_command

T0 = dt.datetime(2026, 11, 23, 8, 12, 7, 250000, tzinfo=dt.timezone.utc)
SID = "CA" + "7" * 32
SHA = "0123456789abcdef0123456789abcdef01234567"


def _redis_py(*args) -> bytes:
    """What redis-py sends for a command: its hiredis packer, checked against its Python one."""
    hiredis_bytes = b"".join(HiredisRespSerializer().pack(*args))
    python_bytes = b"".join(PythonRespSerializer(6000, Encoder("utf-8", "strict", False).encode).pack(*args))
    assert hiredis_bytes == python_bytes
    return hiredis_bytes


def _ours(*args) -> bytes:
    return b"".join(pack_command(redis.Connection(), args[0], args[1:]))


@pytest.mark.parametrize("command", [
    ("LRANGE", "hotline:call:CA1:events", 0, -1),
    ("LLEN", "k"),
    ("SET", "k", "blåbærgrød ☎ ✓", "EX", 90 * DAY),
    ("ZADD", "z", 1767643200.123456, "m", 1e20, "n", -0.5, "o", 10 ** 20, "p"),
    ("CONFIG GET", "maxmemory"),                    # a name of two words goes as two
    (b"CONFIG GET", b"maxmemory"),
    (b"GET", "k"),
    ("EVALSHA", SHA, 2, "k1", "k2", "a", b"\x00\xff", 0.1 + 0.2),
    ("SET", "k", bytearray(b"xy")),                 # redis-py converts these; hiredis alone would not
    ("SET", "k", memoryview(b"xy")),
])
def test_a_command_is_packed_to_the_bytes_redis_py_sends(command):
    assert _ours(*command) == _redis_py(*command)


def test_what_redis_py_refuses_is_refused_the_same_way():
    with pytest.raises(redis.DataError):
        HiredisRespSerializer().pack("SET", "k", True)
    with pytest.raises(redis.DataError):
        pack_command(redis.Connection(), "SET", ("k", True))
    with pytest.raises(redis.DataError):
        pack_command(redis.Connection(), "SET", ("k", None))


def _batches():
    start = event(SID, "+4570112230", "start", "start", T0, to="+4570112230")
    entry = event(SID, "+4570112230", "entry", "menu:1", T0, digits="1", menu="root")
    service = event(SID, "+4570112230", "service", "service:+4570112230", T0, service="it",
                    decision={"reason": "Man 2026-11-23 09:12: inden for åbningstid → Servicedesk", "at": T0.isoformat()})
    odd = event("CA" + "8" * 32, "unknown", "start", "start", T0, to="NaN")
    end = follow_up(event(SID, "+4570112230", "end", "end", T0, status="completed"), "hotline:due", 1767643260.5, SID)
    yield [(start, 90, T0.timestamp())]
    yield [(entry, 90, None), (service, 90, None)]
    yield [(odd, 7, 1767643200)]
    yield [(end, 30, None)]
    yield [(start, 1, T0.timestamp()), (entry, 365, None), (service, 90, None), (end, 90, None)]


@pytest.mark.parametrize("items", list(_batches()))
def test_the_call_logs_script_call_is_packed_as_redis_py_packed_it_with_numbers(items):
    keys, args = append_arguments(items)
    assert all(isinstance(arg, str) for arg in args), "numbers go as text: nothing is left to convert"
    assert _ours("EVALSHA", SHA, len(keys), *keys, *args) == _redis_py("EVALSHA", SHA, len(keys), *keys, *args)
