"""Sign-in rate limit: failures counted per account and per address in Redis, forgotten after a window.

While an account or an address has MAX_* failures inside the window, every sign-in with it is
refused, even with the right password, until the window ends.
"""
from __future__ import annotations

from redis import Redis

from ivr import keys

WINDOW_SECONDS = 15 * 60
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 20


def blocked(redis: Redis, user: str, address: str) -> bool:
    """Return True while the account or the address has used up its failures."""
    per_user, per_addr = redis.mget(keys.console_signin_failures("user", user),
                                    keys.console_signin_failures("addr", address))
    return int(per_user or 0) >= MAX_PER_ACCOUNT or int(per_addr or 0) >= MAX_PER_ADDRESS


def failed(redis: Redis, user: str, address: str) -> None:
    """Count one failed sign-in for the account and the address (each window starts at its first failure)."""
    pipe = redis.pipeline()
    for key in (keys.console_signin_failures("user", user), keys.console_signin_failures("addr", address)):
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
    pipe.execute()


def succeeded(redis: Redis, user: str) -> None:
    """Forget the account's failures after a good sign-in (the address's count stays)."""
    redis.delete(keys.console_signin_failures("user", user))
