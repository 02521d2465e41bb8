"""Staff PIN attempts per line and caller: the count and the check are one atomic step.

A caller's hash in Redis (ivr.keys.staff_attempts) holds `fails` (wrong PINs) and `busy` (PIN
checks under way). A check may begin only by taking a slot, which a Lua script grants while
fails + busy < max_attempts: however many requests arrive at once, at most max_attempts PINs are
compared with the hash per lockout period. A wrong PIN turns its slot into a fail; a right one
frees its slot and clears the fails, unless the caller was locked out meanwhile (then it does not
count). The hash expires `lockout_minutes` after the last attempt, so a slot left by a crashed
process is freed then too.
"""
from __future__ import annotations

import redis

from ivr import keys

# KEYS: attempts hash. ARGV: max attempts, ttl seconds. Returns 1 (slot taken) or 0 (refused).
_TAKE = """
local fails = tonumber(redis.call('HGET', KEYS[1], 'fails') or '0')
local busy = tonumber(redis.call('HGET', KEYS[1], 'busy') or '0')
if fails + busy >= tonumber(ARGV[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'busy', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: attempts hash. ARGV: ttl seconds. Returns the fails after this wrong PIN.
_WRONG = """
if tonumber(redis.call('HGET', KEYS[1], 'busy') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'busy', -1) end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return fails
"""

# KEYS: attempts hash. ARGV: max attempts. Returns 1 (accepted, fails cleared) or 0 (locked out meanwhile).
_RIGHT = """
local busy = tonumber(redis.call('HGET', KEYS[1], 'busy') or '0')
if busy > 0 then busy = redis.call('HINCRBY', KEYS[1], 'busy', -1) end
if tonumber(redis.call('HGET', KEYS[1], 'fails') or '0') >= tonumber(ARGV[1]) then return 0 end
if busy > 0 then redis.call('HSET', KEYS[1], 'fails', 0) else redis.call('DEL', KEYS[1]) end
return 1
"""


class PinAttempts:
    """The attempt slots of one caller on one line; every method may raise redis.RedisError."""

    def __init__(self, client: redis.Redis, line: str, caller: str, max_attempts: int, lockout_minutes: int):
        self.redis, self.key = client, keys.staff_attempts(line, caller)
        self.max_attempts, self.ttl = max_attempts, lockout_minutes * 60

    def locked(self) -> bool:
        """Return True when the caller has used up `max_attempts` wrong PINs (locked out)."""
        return int(self.redis.hget(self.key, "fails") or 0) >= self.max_attempts

    def take(self) -> bool:
        """Take a slot for one PIN check; False when fails + checks under way reach the limit."""
        return bool(self.redis.eval(_TAKE, 1, self.key, self.max_attempts, self.ttl))

    def wrong(self) -> int:
        """Turn the taken slot into a wrong PIN; returns the fails so far."""
        return int(self.redis.eval(_WRONG, 1, self.key, self.ttl))

    def right(self) -> bool:
        """Free the taken slot after a right PIN and clear the fails; False when the caller was
        locked out meanwhile (the PIN is then not accepted)."""
        return bool(self.redis.eval(_RIGHT, 1, self.key, self.max_attempts))

    def release(self) -> None:
        """Free the taken slot without a verdict (the check itself failed)."""
        self.redis.eval("if tonumber(redis.call('HGET', KEYS[1], 'busy') or '0') > 0 then "
                        "redis.call('HINCRBY', KEYS[1], 'busy', -1) end", 1, self.key)
