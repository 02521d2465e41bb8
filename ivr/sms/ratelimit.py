"""A send-rate limiter shared by every worker, kept in Redis (three keys per sender).

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
   `reserve_and_admit` does both steps in one round trip when the slot is due already (a worker
   that is behind, catching up).
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

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# Reserves the next slot of limiter key `key` (interval, catch-up allowance: microseconds);
# returns microseconds to wait (0 when the slot is now or already past).
_RESERVE_FN = """
local function reserve(key, now, interval, catch_up)
  local tat = tonumber(redis.call('GET', key) or '0')
  local slot = now
  if tat > 0 then slot = math.max(tat, now - catch_up) end
  local nxt = slot + interval
  redis.call('SET', key, string.format('%d', nxt), 'PX', math.max(math.floor((nxt - now) / 1000), 0) + 1000)
  return math.max(slot - now, 0)
end
"""

# Admission against `log` (sorted set: member -> the latest moment the send may reach Twilio, us):
# window, most sends per window, a unique member, hold (us), the longest wait to return (us):
# sends in flight may settle earlier than they are placed. Returns 0 when admitted (logged as in
# flight until now + hold), else microseconds to wait before asking again.
_ADMIT_FN = """
local function admit(log, now, window, limit, member, hold, longest)
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  if redis.call('ZCARD', log) >= limit then
    local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
    return math.min(math.max(tonumber(oldest[2]) + window - now + 1, 1), longest)
  end
  redis.call('ZADD', log, now + hold, member)
  redis.call('PEXPIRE', log, math.floor((window + hold) / 1000) + 1000)
  return 0
end
"""

# KEYS[1] limiter key; ARGV[1] interval, ARGV[2] catch-up allowance. Returns us to wait.
_RESERVE = _RESERVE_FN + _NOW + """
return reserve(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]))
"""

# KEYS[1] admission log; ARGV[1..5] as admit(). Returns {us to wait (0: admitted), now}.
_ADMIT = _ADMIT_FN + _NOW + """
return {admit(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])), now}
"""

# KEYS[1] limiter key, KEYS[2] admission log; ARGV[1..2] as reserve(), ARGV[3..7] as admit().
# Reserves a slot and, when it is due, asks for admission at once (one round trip for a worker
# that is behind). Returns {us to wait for the slot, us to wait for admission (0: admitted), now};
# the second is -1 when the slot is not due yet (admission not asked).
_RESERVE_ADMIT = _RESERVE_FN + _ADMIT_FN + _NOW + """
local wait = reserve(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]))
if wait > 0 then return {wait, -1, now} end
return {0, admit(KEYS[2], now, tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]),
                 tonumber(ARGV[7])), now}
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
        self._reserve_admit = redis.register_script(_RESERVE_ADMIT)
        self._settle = redis.register_script(_SETTLE)
        self._in_flight: tuple[str, int] | None = None   # member, admission (us)

    def _catch_up_us(self) -> int:
        return max(CATCH_UP_SLOTS * self.interval_us, int(CATCH_UP * 1_000_000))

    def _admit_args(self) -> tuple[str, list]:
        member = f"{time.time_ns()}-{secrets.token_hex(4)}"
        return member, [self.window_us, self.limit, member, int(HOLD * 1_000_000), self.interval_us]

    def reserve(self) -> float:
        """Reserve the next slot; returns the seconds to wait before sending in it."""
        return int(self._reserve(keys=[self.key], args=[self.interval_us, self._catch_up_us()])) / 1_000_000

    def admit(self) -> tuple[float, float]:
        """Log a send now if the last WINDOW seconds hold fewer than `rate` sends.

        Returns (seconds to wait before asking again, 0 when admitted; Redis time in seconds).
        """
        member, args = self._admit_args()
        wait_us, now_us = self._admit(keys=[self.log_key], args=args)
        if int(wait_us) <= 0:
            self._in_flight = (member, int(now_us))
        return int(wait_us) / 1_000_000, int(now_us) / 1_000_000

    def reserve_and_admit(self) -> tuple[float, float]:
        """Reserve the next slot and, if it is due already, ask for admission in the same round trip.

        Returns (seconds to wait, 0 when admitted; Redis time in seconds). After a wait (until the
        slot, or until admission may be asked again) the caller asks with `wait_for_admission`.
        """
        member, args = self._admit_args()
        slot_us, admit_us, now_us = self._reserve_admit(
            keys=[self.key, self.log_key], args=[self.interval_us, self._catch_up_us(), *args])
        wait_us = int(slot_us) if int(slot_us) > 0 else int(admit_us)
        if wait_us == 0:
            self._in_flight = (member, int(now_us))
        return wait_us / 1_000_000, int(now_us) / 1_000_000

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

    def acquire(self, sleep=time.sleep, after_wait=None) -> float:
        """Wait for a slot, then for admission right before sending; returns the admission time
        (Redis clock, seconds). A slot due already is reserved and admitted in one round trip.

        `after_wait(seconds)`, if given, runs after a wait and before admission is asked (e.g. to
        renew a lease); an exception it raises ends the wait with nothing admitted.
        """
        wait, now = self.reserve_and_admit()
        if wait <= 0:
            return now
        sleep(wait)
        if after_wait is not None:
            after_wait(wait)
        return self.wait_for_admission(sleep)

    def pause(self, seconds: float) -> None:
        """Hold every worker's next send for this sender back by `seconds` (after a 429)."""
        self._pause(keys=[self.key], args=[int(seconds * 1_000_000)])

