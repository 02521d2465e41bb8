"""A send-rate limiter shared by every worker, kept in Redis (one key per sender).

Each caller reserves the next free slot atomically (a GCRA with a burst of one: slots are
`1/rate` apart on Redis's own clock, so workers on several hosts agree), then sleeps until its
slot. Reserving rather than polling keeps the order fair and costs one round trip per message.
A slot reserved by a worker that dies is simply lost (the blast goes a little slower, never faster).

We aim at HEADROOM of the configured rate so that network jitter between workers and Twilio
cannot squeeze `rate + 1` requests into one second as Twilio sees them.
"""
from __future__ import annotations

import time

from redis import Redis

from ivr import keys

HEADROOM = 0.95

# KEYS[1] limiter key; ARGV[1] interval in microseconds. Returns microseconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(tat, now)
local nxt = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return slot - now
"""

# KEYS[1] limiter key; ARGV[1] pause in microseconds: nobody sends before now + pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local nxt = math.max(tat, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return nxt - now
"""


class RateLimiter:
    """Never lets more than `rate` messages per second leave for one sender, across all workers."""

    def __init__(self, redis: Redis, sender: str, rate: float):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.redis, self.key = redis, keys.sms_rate(sender)
        self.interval_us = int(1_000_000 / (rate * HEADROOM))
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)

    def reserve(self) -> float:
        """Reserve the next slot; returns the seconds to wait before sending in it."""
        return int(self._reserve(keys=[self.key], args=[self.interval_us])) / 1_000_000

    def acquire(self, sleep=time.sleep) -> float:
        """Reserve a slot and sleep until it; returns the seconds slept."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Hold every worker's next send for this sender back by `seconds` (after a 429)."""
        self._pause(keys=[self.key], args=[int(seconds * 1_000_000)])
