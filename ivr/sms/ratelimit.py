"""A send-rate limiter shared by every worker, kept in Redis (two keys per sender).

Three steps, all Lua scripts on Redis's own clock (so workers on several hosts agree):

1. `reserve`: the next free slot of a GCRA, slots `1/(rate * HEADROOM)` apart. The worker sleeps
   until its slot. Reserving rather than polling keeps the order fair and the sends evenly spaced.
   While the limiter is in use (its key lives about a second past the last slot), a slot that
   passed unused because every worker was busy or descheduled may be caught up, up to CATCH_UP
   seconds back (at least CATCH_UP_SLOTS slots), so a loaded worker or a job hand-off (RQ forks
   a fresh work-horse per job) does not cost the blast its rate; a fresh start never bursts.
   Admission, not the slot, keeps such a burst within `rate` per second.
2. `admit`, right before the request leaves: the send is allowed only if fewer than `rate` sends
   are in the admission log's last WINDOW seconds, else it waits. A worker that woke up late past
   its slot, next to the following slot's owner, therefore cannot put `rate + 1` messages into one
   second. A send is logged as "in flight" (a place HOLD seconds ahead, so it counts meanwhile).
3. `settle`, when Twilio's answer is back: the send's place becomes the latest moment it may have
   reached Twilio, its admission plus however much longer than the sender's usual round trip
   (the shortest any worker's send of this sender took in the last ROUND_TRIP_HORIZON minutes;
   none: 0) this one took. A request held up after its admission (the process waited for a CPU)
   thus keeps counting where it landed, while steady network latency, the same for every send,
   costs nothing. The usual round trip is never more than one actually seen: an estimate that
   crept up while most round trips were long (a loaded machine) would forgive a request held up
   on its way out more than the window absorbs.

WINDOW is `1 / HEADROOM` seconds (about 15 ms more than a second): that much jitter is absorbed
beyond what settling sees; the GCRA and the window then allow the same long-run rate, HEADROOM
of the configured one.
"""
from __future__ import annotations

import math
import secrets
import time

from redis import Redis

from ivr import keys

HEADROOM = 0.985
WINDOW = 1.0 / HEADROOM
CATCH_UP = 0.25     # seconds of slots that went by unused which may still be caught up
CATCH_UP_SLOTS = 3
HOLD = 15.0          # seconds a send counts as in flight at most (longer than one HTTP attempt)
ROUND_TRIP_HORIZON = 10  # minutes: the usual round trip is the shortest seen this long back

# KEYS[1] limiter key; ARGV[1] interval, ARGV[2] catch-up allowance, both in microseconds.
# Returns microseconds to wait (0 when the slot is now or already past).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = now
if tat > 0 then slot = math.max(tat, now - tonumber(ARGV[2])) end
local nxt = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.max(math.floor((nxt - now) / 1000), 0) + 1000)
return math.max(slot - now, 0)
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

# KEYS[1] admission log (sorted set: member -> the latest moment the send may reach Twilio, us);
# ARGV[1] window, ARGV[2] most sends per window, ARGV[3] a unique member, ARGV[4] hold (us),
# ARGV[5] the longest wait to return (us): sends in flight may settle earlier than they are placed.
# Returns {0, now} when admitted (logged as in flight until now + hold), else {us to wait, now}.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {math.min(math.max(tonumber(oldest[2]) + window - now + 1, 1), tonumber(ARGV[5])), now}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.floor((window + tonumber(ARGV[4])) / 1000) + 1000)
return {0, now}
"""

# KEYS[1] admission log, KEYS[2] the sender's shortest round trip per minute (hash: minute -> us);
# ARGV[1] member, ARGV[2] its admission (us), ARGV[3] horizon (minutes). The round trip is measured on
# Redis's clock, from admission to this settle; the usual one is the shortest any worker's send of
# this sender took within the horizon, before this one (none: 0, the send counts its whole round
# trip). Places the send at its admission plus however much longer than usual its round trip was,
# if it is still logged, and records its round trip.
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local admitted = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local rtt = math.max(now - admitted, 0)
local minute = math.floor(now / 60000000)
local usual = nil
local seen = redis.call('HGETALL', KEYS[2])
for i = 1, #seen, 2 do
  if tonumber(seen[i]) <= minute - horizon then
    redis.call('HDEL', KEYS[2], seen[i])
  elseif usual == nil or tonumber(seen[i + 1]) < usual then
    usual = tonumber(seen[i + 1])
  end
end
usual = math.min(usual or 0, rtt)
local field = string.format('%d', minute)
local shortest = tonumber(redis.call('HGET', KEYS[2], field) or '-1')
if shortest < 0 or rtt < shortest then redis.call('HSET', KEYS[2], field, string.format('%d', rtt)) end
redis.call('EXPIRE', KEYS[2], (horizon + 1) * 60)
return redis.call('ZADD', KEYS[1], 'XX', 'CH', admitted + rtt - usual, ARGV[1])
"""


class RateLimiter:
    """Never lets more than `rate` messages per second leave for one sender, across all workers."""

    def __init__(self, redis: Redis, sender: str, rate: float):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.redis, self.key, self.log_key = redis, keys.sms_rate(sender), keys.sms_sent_log(sender)
        self.rtt_key = keys.sms_round_trips(sender)
        self.interval_us = int(1_000_000 / (rate * HEADROOM))
        self.limit = max(1, math.floor(rate))
        self.window_us = int(WINDOW * 1_000_000)
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._admit = redis.register_script(_ADMIT)
        self._settle = redis.register_script(_SETTLE)
        self._in_flight: tuple[str, int] | None = None   # member, admission (us)

    def reserve(self) -> float:
        """Reserve the next slot; returns the seconds to wait before sending in it."""
        catch_up = max(CATCH_UP_SLOTS * self.interval_us, int(CATCH_UP * 1_000_000))
        return int(self._reserve(keys=[self.key], args=[self.interval_us, catch_up])) / 1_000_000

    def admit(self) -> tuple[float, float]:
        """Log a send now if the last WINDOW seconds hold fewer than `rate` sends.

        Returns (seconds to wait before asking again, 0 when admitted; Redis time in seconds).
        """
        member = f"{time.time_ns()}-{secrets.token_hex(4)}"
        args = [self.window_us, self.limit, member, int(HOLD * 1_000_000), self.interval_us]
        wait_us, now_us = self._admit(keys=[self.log_key], args=args)
        if int(wait_us) <= 0:
            self._in_flight = (member, int(now_us))
        return int(wait_us) / 1_000_000, int(now_us) / 1_000_000

    def settle(self) -> None:
        """Tell the limiter the last admitted send got its answer (or failed): from now on it
        counts at the latest moment it may have reached Twilio. No-op when nothing is in flight."""
        if self._in_flight is None:
            return
        member, admitted_us = self._in_flight
        self._in_flight = None
        self._settle(keys=[self.log_key, self.rtt_key], args=[member, admitted_us, ROUND_TRIP_HORIZON])

    def wait_for_slot(self, sleep=time.sleep) -> float:
        """Reserve a slot and sleep until it; returns the seconds slept."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        return wait

    def wait_for_admission(self, sleep=time.sleep) -> float:
        """Sleep until `admit` lets this send go; returns the admission time (Redis clock, seconds)."""
        while True:
            wait, now = self.admit()
            if wait <= 0:
                return now
            sleep(wait)

    def acquire(self, sleep=time.sleep) -> float:
        """Wait for a slot, then for admission right before sending; returns the admission time
        (Redis clock, seconds)."""
        self.wait_for_slot(sleep)
        return self.wait_for_admission(sleep)

    def pause(self, seconds: float) -> None:
        """Hold every worker's next send for this sender back by `seconds` (after a 429)."""
        self._pause(keys=[self.key], args=[int(seconds * 1_000_000)])

