"""CallStore: call events into Redis, atomically de-duplicated; a local spool when Redis is down.

Calls never wait on a dead Redis for long: connection timeouts are short, there are no retry
back-offs, and after a failure Redis is skipped for `pause` seconds (events go to the spool).
When Redis answers again, the spool is replayed (see ivr.calls.spool).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from typing import Callable, Iterable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ivr import keys
from ivr.calls.events import accepted_steps, fold, frozen_decision
from ivr.calls.spool import Spool, valid_sid

log = logging.getLogger(__name__)

DAY = 86400

# KEYS: events, seen, index, lines. ARGV: event id, event JSON, ttl seconds, index score ('' = none),
# sid, index cutoff score, line.
_APPEND = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[6])
  redis.call('SADD', KEYS[4], ARGV[7])
end
return 1
"""


def connect_redis(url: str | None) -> redis.Redis | None:
    """Return a Redis client for `url` tuned for phone calls (short timeouts, one quick retry).

    Returns None when `url` is empty. Connecting is lazy: nothing is raised here.
    """
    if not url:
        return None
    return redis.Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=1.0,
        retry=Retry(NoBackoff(), 1), health_check_interval=0, decode_responses=True,
    )


class CallStore:
    """Reads and writes call events. `redis` None means spool only (development without Redis)."""

    def __init__(self, client: redis.Redis | None, spool: Spool, pause: float = 2.0):
        self.redis = client
        self.spool = spool
        self.pause = pause
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._script = client.register_script(_APPEND) if client is not None else None
        # Observers (e.g. metrics): called with each new event, and with each Redis error.
        self.on_event: list[Callable[[dict], None]] = []
        self.on_redis_failure: list[Callable[[Exception], None]] = []

    # -- health -------------------------------------------------------------------------------
    def available(self) -> bool:
        """Return True when Redis is configured and not in its pause after a failure."""
        return self.redis is not None and time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        _notify(self.on_redis_failure, exc)
        if time.monotonic() >= self._down_until:
            log.warning("Redis unreachable (%s); call events go to the spool %s", exc, self.spool.dir)
        self._down_until = time.monotonic() + self.pause

    # -- writing ------------------------------------------------------------------------------
    def add(self, ev: dict, ttl_days: int, index_ts: float | None = None) -> bool:
        """Record one event; returns False when an event with the same id was already there.

        Redis down: the event is spooled (and True returned unless the spool already has it).
        Never raises for Redis trouble; raises OSError only when Redis AND the spool fail.
        """
        if self.available():
            try:
                new = self._write(ev, ttl_days, index_ts)
            except redis.RedisError as exc:
                self._failed(exc)
            else:
                if new:
                    _notify(self.on_event, ev)
                self._maybe_flush()
                return new
        if any(old.get("id") == ev["id"] for old in self.spool.events(ev["sid"])):
            return False
        self.spool.append({**ev, "_ttl_days": ttl_days, "_index_ts": index_ts})
        _notify(self.on_event, ev)
        return True

    def _write(self, ev: dict, ttl_days: int, index_ts: float | None) -> bool:
        sid, line = ev["sid"], ev.get("line") or "unknown"
        ttl = int(ttl_days) * DAY
        cutoff = (index_ts or time.time()) - ttl
        payload = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
        added = self._script(
            keys=[keys.call_events(sid), keys.call_seen(sid), keys.calls_index(line), keys.calls_lines()],
            args=[ev["id"], payload, ttl, "" if index_ts is None else repr(float(index_ts)), sid, cutoff, line],
        )
        return bool(added)

    def _replay(self, ev: dict) -> None:
        ttl_days = ev.pop("_ttl_days", None) or 90
        index_ts = ev.pop("_index_ts", None)
        self._write(ev, ttl_days, index_ts)

    def flush(self) -> int:
        """Replay the spool into Redis; returns how many events went in (0 when Redis is down)."""
        if self.redis is None:
            return 0
        with self._lock:
            try:
                return self.spool.flush(self._replay)
            except redis.RedisError as exc:
                self._failed(exc)
                return 0

    def _maybe_flush(self) -> None:
        if self.spool.pending():
            count = self.flush()
            if count:
                log.info("flushed %d spooled call events into Redis", count)

    # -- reading ------------------------------------------------------------------------------
    def events(self, sid: str) -> list[dict]:
        """Return a call's events from Redis (when reachable) and from the spool."""
        if not valid_sid(sid):
            return []
        found: list[dict] = []
        if self.available():
            try:
                found = [json.loads(raw) for raw in self.redis.lrange(keys.call_events(sid), 0, -1)]
            except redis.RedisError as exc:
                self._failed(exc)
        return found + self.spool.events(sid)

    def record(self, sid: str) -> dict | None:
        """Return the folded record of a call, or None when nothing is known about it."""
        events = self.events(sid)
        return fold(sid, events) if events else None

    def decision(self, sid: str) -> dict | None:
        """Return the decision frozen for this call when its service was reached, or None."""
        return frozen_decision(self.events(sid))

    def accepted(self, sid: str) -> dict[int, str]:
        """Return {step: number} of screened steps whose callee pressed 1."""
        return accepted_steps(self.events(sid))

    def recent(self, lines: Iterable[str] | None = None, since: dt.datetime | None = None,
               limit: int = 1000) -> list[dict]:
        """Return records of recent calls, newest first; raises redis.RedisError when Redis is down.

        `lines` None means every line that has an index. Spooled calls not yet in Redis are included.
        """
        if self.redis is None:
            return self.spooled(lines, since)
        self.flush()
        chosen = list(lines) if lines is not None else sorted(self.redis.smembers(keys.calls_lines()))
        low = since.timestamp() if since else "-inf"
        pairs: list[tuple[float, str]] = []
        for line in chosen:
            pairs.extend((score, sid) for sid, score in
                         self.redis.zrangebyscore(keys.calls_index(line), low, "+inf", withscores=True))
        pairs.sort(reverse=True)
        records = []
        for _, sid in pairs[:limit]:
            record = self.record(sid)
            if record is not None and record.get("line") is not None:
                records.append(record)
        return records

    def spooled(self, lines: Iterable[str] | None = None, since: dt.datetime | None = None) -> list[dict]:
        """Return records of calls that exist only in the spool (Redis down or not configured)."""
        sids = {p.name.split(".", 1)[0] for p in self.spool.dir.glob("*.*")} if self.spool.dir.is_dir() else set()
        wanted = set(lines) if lines is not None else None
        out = []
        for sid in sids:
            record = fold(sid, self.spool.events(sid))
            if wanted is not None and record.get("line") not in wanted:
                continue
            if since and (record.get("started_at") or "") < since.astimezone(dt.timezone.utc).isoformat():
                continue
            out.append(record)
        return sorted(out, key=lambda r: r.get("started_at") or "", reverse=True)


def _notify(observers: list, value) -> None:
    for observer in list(observers):
        try:
            observer(value)
        except Exception:  # noqa: BLE001 - an observer never breaks a call
            log.exception("call store observer %r failed", observer)
