"""The one way the web process reaches Redis: short timeouts, no retries, a circuit breaker, a budget.

`gated_client(url)` returns an ordinary `redis.Redis` whose connections pass every command
(plain, script, pipeline) through one `Breaker`, shared by all threads of the process:

- closed: commands go through; a connection failure or timeout opens it;
- open: for `pause` seconds every command fails at once with `GateClosed` (no socket touched);
- half-open: after the pause exactly one command (the probe) goes through; its success closes
  the breaker, its failure opens it for another pause. Other threads fail fast meanwhile.

Each command waits at most `timeout` seconds (connect and read) and is never retried, so with a
hung Redis one request loses at most one timeout, and while the breaker is open none at all.
`background_client(client)` is the same Redis behind the same breaker for the threads no caller
waits on (the write-behind's flusher, the spool replay, the outage status refresher): their replies
may take BACKGROUND_TIMEOUT, so that a pause of a few hundred milliseconds (a slow fsync, a
failover, a loaded machine that does not schedule Redis) neither opens the breaker for the whole
process nor sends its events the slower way, through the spool.
`budget(seconds)` also gives one request (one thread) a deadline: once `seconds` have passed since
it began, its Redis commands are skipped (the call store spools instead).
`GateClosed` is a `redis.ConnectionError`, so callers' `except redis.RedisError` covers it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Callable, Iterator

import redis
from redis.backoff import NoBackoff
from redis.connection import HiredisRespSerializer
from redis.retry import Retry

from ivr.calls.forksafe import renew_after_fork

try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:   # redis-py packs in Python then (see pack_command)
    _hiredis_pack = None

log = logging.getLogger(__name__)

TIMEOUT = 0.25   # seconds for one connect or one reply on the call path
CALL_BUDGET = 0.5  # seconds after a webhook request began from which its Redis commands are skipped
PAUSE = 2.0      # seconds the breaker stays open after a failure
BACKGROUND_TIMEOUT = 1.0   # seconds for one reply to a thread nobody waits on (see background_client)
_FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)


class GateClosed(redis.ConnectionError):
    """Redis is skipped: the breaker is open, or the request's Redis budget is used up."""


class Breaker:
    """A circuit breaker shared by the threads of one process (see the module docstring)."""

    def __init__(self, pause: float = PAUSE, clock: Callable[[], float] = time.monotonic):
        self.pause = pause
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None   # None: closed
        self._probe_until = 0.0                  # a probe is in flight until then
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self._lock, self._probe_until = threading.Lock(), 0.0

    def _guard(self) -> threading.Lock:
        return self._lock

    def admit(self) -> bool:
        """Return True when a command may go to Redis now (closed, or this is the half-open probe)."""
        if self._open_until is None:
            return True   # closed: no lock needed to say so (opening races with this either way)
        with self._guard():
            if self._open_until is None:
                return True
            now = self.clock()
            if now < self._open_until or now < self._probe_until:
                return False
            self._probe_until = now + max(self.pause, TIMEOUT * 4)
            return True

    def is_open(self) -> bool:
        """Return True while commands would be refused (open and no probe due); takes no probe."""
        with self._guard():
            if self._open_until is None:
                return False
            now = self.clock()
            return now < self._open_until or now < self._probe_until

    def succeeded(self) -> None:
        """Close the breaker (Redis answered)."""
        if self._open_until is None:
            return
        with self._guard():
            if self._open_until is not None:
                log.warning("Redis answers again; the breaker is closed")
            self._open_until, self._probe_until = None, 0.0

    def failed(self, exc: BaseException) -> None:
        """Open the breaker for `pause` seconds (Redis did not answer)."""
        with self._guard():
            if self._open_until is None:
                log.warning("Redis unreachable (%s); skipping it for %.1f s at a time", exc, self.pause)
            self._open_until, self._probe_until = self.clock() + self.pause, 0.0


_local = threading.local()


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Within the block, this thread's Redis commands fail with GateClosed once `seconds` have passed."""
    start_budget(seconds)
    try:
        yield
    finally:
        end_budget()


def start_budget(seconds: float) -> None:
    """Skip this thread's Redis commands once `seconds` from now have passed (set per request)."""
    _local.deadline = time.monotonic() + seconds


def end_budget() -> None:
    """Lift this thread's budget (e.g. at the end of a request)."""
    _local.deadline = None


def _budget_left() -> bool:
    deadline = getattr(_local, "deadline", None)
    return deadline is None or time.monotonic() < deadline


class _Gated:
    """Mixed into a redis-py connection class: asks the Breaker before each command, reports how it went."""

    def __init__(self, *args, breaker: Breaker, **kwargs):
        super().__init__(*args, **kwargs)
        self.breaker = breaker
        self._inside = False   # the handshake inside connect() sends commands of its own

    def _admitted(self, call: Callable, *args, **kwargs):
        """Return call(*args, **kwargs) after asking the budget and the breaker, once per outer
        call (connect's handshake, inside a send, sends commands of its own)."""
        if self._inside:
            return call(*args, **kwargs)
        if not _budget_left():
            raise GateClosed("this request's Redis time is used up")
        if not self.breaker.admit():
            raise GateClosed("Redis is skipped after a failure (breaker open)")
        self._inside = True
        try:
            return call(*args, **kwargs)
        except _FAILURES as exc:
            if not isinstance(exc, GateClosed):
                self.breaker.failed(exc)
            raise
        finally:
            self._inside = False

    def connect_check_health(self, *args, **kwargs):
        if self._sock:
            return None
        return self._admitted(super().connect_check_health, *args, **kwargs)

    def send_packed_command(self, command, check_health=True):
        return self._admitted(super().send_packed_command, command, check_health)

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except _FAILURES as exc:
            self.breaker.failed(exc)
            raise
        self.breaker.succeeded()
        return response


class GatedConnection(_Gated, redis.Connection):
    """A TCP connection (redis://) through the gate."""


class GatedSSLConnection(_Gated, redis.SSLConnection):
    """A TLS connection (rediss://) through the gate."""


class GatedUnixConnection(_Gated, redis.UnixDomainSocketConnection):
    """A Unix socket connection (unix://) through the gate."""


_CLASSES = {"rediss": GatedSSLConnection, "unix": GatedUnixConnection}


def gated_client(url: str | None, breaker: Breaker | None = None, timeout: float = TIMEOUT,
                 pause: float = PAUSE) -> redis.Redis | None:
    """Return a Redis client for `url` whose commands pass the breaker (a new one unless given).

    Returns None when `url` is empty. Connecting is lazy: nothing is raised here.
    """
    if not url:
        return None
    client = redis.Redis.from_url(
        url, connection_class=_CLASSES.get(url.split("://", 1)[0].lower(), GatedConnection),
        breaker=breaker or Breaker(pause),
        socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0),
        health_check_interval=0, decode_responses=True,
    )
    client._gate_url = url   # for background_client
    return client


def background_client(client: redis.Redis | None, timeout: float = BACKGROUND_TIMEOUT) -> redis.Redis | None:
    """Return a client of the same Redis as `client` (made by gated_client), behind the same
    breaker, whose connects and replies may take `timeout` seconds: for threads no caller waits
    on. Returns `client` itself when it is None or not made by gated_client."""
    url = getattr(client, "_gate_url", None)
    if url is None:
        return client
    return gated_client(url, breaker_of(client), timeout=timeout)


def run_script(client: redis.Redis, script, keys: list, args: list):
    """Return the reply of `script` (a redis-py Script of `client`) run with `keys` and `args`.

    One EVALSHA on a pooled connection of `client`, without redis-py's per-command layers
    (deprecated-argument checks, retry wrapper, timing hooks: as much Python as the rest of a
    webhook's write), through the same gated connection (budget, breaker, timeouts). A Redis that
    lost its script cache gets the script loaded again (redis-py's own Script call does that).
    Raises redis.RedisError as a client call would.
    """
    try:
        return run_command(client, "EVALSHA", script.sha, len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:
        return script(keys=keys, args=args, client=client)
    # A connection that failed mid-command has disconnected itself (redis-py does that): its
    # next command connects again.


def run_command(client: redis.Redis, name: str | bytes, *args):
    """Return the reply of one plain command (e.g. "LRANGE", key, 0, -1) sent the way `run_script`
    sends its script: on this thread's kept connection of `client`, through the gate. Raises
    redis.RedisError as a client call would."""
    conn = _own_connection(client.connection_pool)
    conn.send_packed_command(pack_command(conn, name, args))
    return conn.read_response()


_NAMES: dict[str | bytes, tuple[bytes, ...]] = {}   # a command name as redis-py sends it, per name


def pack_command(conn: redis.Connection, name: str | bytes, args: tuple) -> list[bytes]:
    """Return command `name` with `args` packed as `conn` would send it (its send_command): the
    same bytes, with the name split and encoded once per name, not per command. With hiredis
    (redis-py's packer then hands str, bytes, int and float to hiredis, which writes numbers as
    their repr), hiredis packs them here directly; anything else (no hiredis, other argument
    types) goes through `conn`'s own packer, which raises redis.DataError for what it refuses."""
    head = _NAMES.get(name)
    if head is None:
        if isinstance(name, str):
            head = tuple(name.encode().split())
        else:
            head = tuple(name.split()) if b" " in name else (name,)
        if len(_NAMES) < 256:
            _NAMES[name] = head
    if _hiredis_pack is not None and type(conn._command_packer) is HiredisRespSerializer:
        try:
            return [_hiredis_pack((*head, *args))]
        except TypeError:
            pass   # bytearray, memoryview (redis-py converts them) or a type it refuses
    return conn._command_packer.pack(name, *args)


_held = threading.local()


class _Kept:
    """A connection a thread took from `pool` and keeps; given back when the thread ends (its
    thread-local storage goes, and this with it) or the pool is gone."""

    __slots__ = ("pool", "conn")

    def __init__(self, pool: redis.ConnectionPool, conn: redis.Connection):
        self.pool, self.conn = weakref.ref(pool), conn

    def __del__(self):
        pool = self.pool()
        if pool is not None:
            try:
                pool.release(self.conn)
            except Exception:  # noqa: BLE001 - interpreter shutdown, a pool reset after fork
                pass


def _own_connection(pool: redis.ConnectionPool) -> redis.Connection:
    """Return this thread's own connection of `pool`: taken from the pool once and kept, so a
    webhook's write skips the pool's lock and bookkeeping (the pool still closes it on
    disconnect()). A forked child takes a new one; one pool's connection never serves another.
    Like the pool, it first looks whether the socket has something to read: a connection Redis
    closed (its `timeout`, a restart, a failover) or one with a stray reply is opened anew."""
    mine = getattr(_held, "connections", None)
    if mine is None:
        mine = _held.connections = weakref.WeakKeyDictionary()
    kept = mine.get(pool)
    if kept is None or kept.conn.pid != os.getpid():
        kept = mine[pool] = _Kept(pool, pool.get_connection())
    conn = kept.conn
    if conn._sock is not None:
        try:
            stale = conn.can_read()
        except (redis.ConnectionError, OSError):
            stale = True
        if stale:
            conn.disconnect()   # the next command connects again, through the gate
    return conn


def breaker_of(client: redis.Redis | None) -> Breaker | None:
    """Return the Breaker of a client made by gated_client, else None."""
    if client is None:
        return None
    return client.connection_pool.connection_kwargs.get("breaker")
