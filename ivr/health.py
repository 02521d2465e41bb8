"""The public health report behind /healthz: ok or degraded, with reason codes and counts only.

It names no number, contact or config text (a refused config's errors go to the log, which may
hold numbers): anyone who can reach the app may read it.
"""
from __future__ import annotations

import redis
from rq import Worker

# Reason codes, in the order they are listed.
CONFIG_REFUSED = "config_refused"          # HOTLINE_CONFIG was refused: the last good copy is served
REDIS_NOT_CONFIGURED = "redis_not_configured"  # no REDIS_URL: calls are only spooled
REDIS_UNREACHABLE = "redis_unreachable"    # REDIS_URL set, Redis does not answer
NO_WORKER = "no_worker"                    # no `hotline worker` alive (SMS blasts, escalations wait)
SPOOL_NOT_EMPTY = "spool_not_empty"        # call events wait in the spool for Redis


def report(state, refused: int) -> dict:
    """Return the health report of a HotlineState whose config load refused `refused` files' errors.

    Never raises for Redis trouble (it is a reason code).
    """
    reasons: list[str] = [CONFIG_REFUSED] if refused else []
    redis_ok, workers = False, None
    if state.redis is None:
        reasons.append(REDIS_NOT_CONFIGURED)
    else:
        try:
            redis_ok = bool(state.redis.ping())
            workers = live_workers(state.redis)
        except redis.RedisError:
            reasons.append(REDIS_UNREACHABLE)
        if redis_ok and not workers:
            reasons.append(NO_WORKER)
    spooled = len(state.store.spool.pending())
    if spooled:
        reasons.append(SPOOL_NOT_EMPTY)
    return {"status": "degraded" if reasons else "ok", "reasons": reasons, "lines": len(state.config.lines()),
            "redis": redis_ok, "workers": workers, "spooled_calls": spooled, "config_refused": refused}


def live_workers(client: redis.Redis) -> int:
    """Return how many RQ workers are alive (registered, their key not expired); raises RedisError.

    Counts keys instead of making rq.Worker objects: a Worker raises its connection pool's socket
    timeout to its own (minutes), which would let a hung Redis hold every later call for that long.
    """
    return sum(1 for key in Worker.all_keys(connection=client) if client.exists(key))
