"""The console's audit log in Redis: every change made in the console, with who, when and from where."""
from __future__ import annotations

import datetime as dt
import json

from redis import Redis

from ivr import keys

KEEP = 10_000  # entries kept (newest)


def record(redis: Redis, who: str, action: str, detail: str, address: str, now: dt.datetime) -> None:
    """Add one entry (newest first); the list keeps the newest KEEP entries."""
    entry = {"at": now.astimezone(dt.timezone.utc).isoformat(timespec="seconds"), "who": who,
             "action": action, "detail": detail, "address": address}
    pipe = redis.pipeline()
    pipe.lpush(keys.console_audit(), json.dumps(entry, ensure_ascii=False))
    pipe.ltrim(keys.console_audit(), 0, KEEP - 1)
    pipe.execute()


def entries(redis: Redis, limit: int = 100) -> list[dict]:
    """Return the newest `limit` entries, newest first."""
    raw = redis.lrange(keys.console_audit(), 0, max(0, limit - 1))
    return [json.loads(r) for r in raw]
