"""The last probe result per line, kept in Redis for /metrics and the console."""
from __future__ import annotations

import json

from ivr import keys

KEEP_SECONDS = 30 * 86400  # a line no longer probed drops out after a month


def save_result(redis, line: str, result: dict) -> None:
    """Store `result` (a ProbeResult.to_dict()) as the last probe of `line`; raises redis errors."""
    redis.set(keys.probe_last(line), json.dumps(result, ensure_ascii=False), ex=KEEP_SECONDS)


def last_probe(redis, line: str) -> dict | None:
    """Return the last probe result of `line` (keys: line, ok, at, call_sid, keys, differences,
    error, detail), or None when the line was not probed within KEEP_SECONDS; raises redis errors."""
    raw = redis.get(keys.probe_last(line))
    if raw is None:
        return None
    return json.loads(raw if isinstance(raw, str) else raw.decode())
