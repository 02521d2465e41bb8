"""The call log's write: one Lua script call per batch of events (one webhook's), atomically
de-duplicated by event id, and how its keys and arguments are built from the events.
"""
from __future__ import annotations

import math
import re

from ivr import keys
from ivr.calls.event_json import encode_event

DAY = 86400
UNKNOWN_LINE = "unknown"     # the one index of calls to numbers that are not our hotlines
UNKNOWN_INDEX_CAP = 1000     # ... which keeps only this many newest CallSids
_E164 = re.compile(r"^\+[0-9]{1,15}$")  # a number, not junk such as NaN

# Per event: KEYS events and seen, then index and lines when the event is indexed, then the
# follow-up set when it has one; ARGV event id, event JSON, and its head "ttl index cutoff cap
# follow" (ttl in seconds; index score, index cutoff score, index cap ('0' = none), follow-up
# score, each '_' when there is none), then the sid and line when indexed, then the follow-up
# member when it has one. A plain event (most of a call's) thus takes 2 KEYS and 3 ARGV: each
# argument costs the packing of the command and the flusher's CPU alike. One call of the script
# writes a whole batch (one webhook's events, or a write-behind flusher's batch of several
# webhooks') and returns 1 (added) or 0 (duplicate) per event.
# A call's keys get their TTL when the call is new and are never extended by later events, so a
# call is kept `ttl` from its first event. (The events list has no TTL exactly when the call is new:
# EXPIRE NX tells, and a later event of the same call in the batch finds the TTL set.) An index
# lives `ttl` after its newest call; the set of lines lives as long as the longest-kept index.
# An event's follow-up (see `follow_up`) is added to its sorted set only when the event is new, in
# the same script call: the mark of work due because of the event (e.g. settling the call's
# incident) is written exactly when the event is, never one without the other.
APPEND = """
local out, timed, k, a = {}, {}, 1, 1
while a <= #ARGV do
  local id, text = ARGV[a], ARGV[a + 1]
  local ttl, score, cutoff, cap, due = string.match(ARGV[a + 2], '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
  local events, seen = KEYS[k], KEYS[k + 1]
  local index, lines, sid, line, follow, member
  k, a = k + 2, a + 3
  if score ~= '_' then
    index, lines, sid, line = KEYS[k], KEYS[k + 1], ARGV[a], ARGV[a + 1]
    k, a = k + 2, a + 2
  end
  if due ~= '_' then
    follow, member = KEYS[k], ARGV[a]
    k, a = k + 1, a + 1
  end
  if redis.call('SADD', seen, id) == 0 then
    out[#out + 1] = 0
  else
    redis.call('RPUSH', events, text)
    if not timed[events] then
      if redis.call('EXPIRE', events, ttl, 'NX') == 1 then
        redis.call('EXPIRE', seen, ttl)
      end
      timed[events] = tonumber(ttl) > 0
    end
    if index then
      redis.call('ZADD', index, 'NX', score, sid)
      redis.call('ZREMRANGEBYSCORE', index, '-inf', cutoff)
      if tonumber(cap) > 0 then redis.call('ZREMRANGEBYRANK', index, 0, -1 - tonumber(cap)) end
      redis.call('EXPIRE', index, ttl)
      redis.call('SADD', lines, line)
      if redis.call('TTL', lines) < tonumber(ttl) then redis.call('EXPIRE', lines, ttl) end
    end
    if follow then redis.call('ZADD', follow, due, member) end
    out[#out + 1] = 1
  end
end
return out
"""


FOLLOW = "_follow"  # an event's key for its follow-up; never part of the logged event


def follow_up(ev: dict, key: str, due: float, member: str) -> dict:
    """Return `ev` with a follow-up: `member` is added to sorted set `key` with score `due` (an
    epoch second) when, and only when, the event is written as new (kept through the spool)."""
    return {**ev, FOLLOW: [key, due, member]}


def index_line(line: str | None) -> str:
    """Return the line a call is indexed under: its hotline (E.164), else the one "unknown" bucket."""
    return line if line and _E164.match(line) else UNKNOWN_LINE


def append_arguments(items: list[tuple[dict, int, float | None]],
                     texts: list[str] | None = None) -> tuple[list[str], list]:
    """Return (KEYS, ARGV) of one APPEND call for `items` ((event, ttl in days, index score or None)
    each); raises ValueError or TypeError for an item that cannot be written as it stands (see
    `writable`). `texts`, when given, are the events' JSON texts (without follow-ups) already encoded.
    Numbers are given as the text redis-py would send for them (their repr), so they are packed as
    they are."""
    script_keys: list[str] = []
    args: list = []
    for n, (ev, ttl_days, index_ts) in enumerate(items):
        sid = ev["sid"]
        ttl = int(ttl_days) * DAY
        follow = ev.get(FOLLOW)
        if follow:
            ev = {k: v for k, v in ev.items() if k != FOLLOW}
        script_keys += [keys.call_events(sid), keys.call_seen(sid)]
        if index_ts is None:
            head = f"{ttl} _ _ _"
            more = []
        else:
            line = index_line(ev.get("line"))
            # the cutoff in whole seconds: a sub-second part would only cost a float's repr
            head = (f"{ttl} {score(index_ts)} {math.floor(index_ts) - ttl} "
                    f"{UNKNOWN_INDEX_CAP if line == UNKNOWN_LINE else 0}")
            script_keys += [keys.calls_index(line), keys.calls_lines()]
            more = [sid, line]
        if follow:
            head = f"{head} {score(follow[1])}"
            script_keys.append(follow[0])
            more.append(follow[2])
        else:
            head += " _"
        args += [ev["id"], encode_event(ev) if texts is None else texts[n], head, *more]
    return script_keys, args


class Score(float):
    """A float that carries its repr (`text`), worked out once: a call's index score is written
    into the journal line and into the script's arguments, and a float's repr costs more than
    the rest of building either. A copy or a pickle of it is a plain float."""

    __slots__ = ("text",)

    def __new__(cls, value: float) -> "Score":
        obj = float.__new__(cls, value)
        obj.text = float.__repr__(obj)
        return obj

    def __reduce__(self):
        return float, (float(self),)


def score(value) -> str:
    """Return a finite number as the text a sorted-set score is sent as; raises ValueError (or
    TypeError) otherwise: Redis refuses "nan" in the middle of the script, after the batch's
    earlier events were written, and takes "inf" for a follow-up that is never due."""
    if type(value) is Score and math.isfinite(value):
        return value.text
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return repr(number)


DEFAULT_TTL_DAYS = 90


def writable(item: tuple[dict, int, float | None]) -> tuple[tuple[dict, int, float | None], list[str]]:
    """Return `item` (event, ttl in days, index score) as it can be written, and what had to go:
    a malformed follow-up (from a plugin's outcome mark) is dropped, a days kept that is no whole
    number becomes DEFAULT_TTL_DAYS, an index score that is no finite number becomes None. The
    event's own data is kept as it is."""
    ev, ttl_days, index_ts = item
    problems = []
    follow = ev.get(FOLLOW)
    if follow is not None and not _good_follow_up(follow):
        ev = {k: v for k, v in ev.items() if k != FOLLOW}
        key, due = (follow[0], follow[1]) if isinstance(follow, (list, tuple)) and len(follow) == 3 else ("?", "?")
        problems.append(f"its follow-up (set {str(key)[:80]!r}, due {str(due)[:40]!r}) is malformed and was dropped")
    if type(ttl_days) is not int:
        try:
            ttl_days = int(ttl_days)
        except (TypeError, ValueError, OverflowError):
            problems.append(f"its days kept {str(ttl_days)[:40]!r} are no number: kept {DEFAULT_TTL_DAYS} days")
            ttl_days = DEFAULT_TTL_DAYS
    if index_ts is not None:
        try:
            score(index_ts)
        except (TypeError, ValueError, OverflowError):
            problems.append(f"its index time {str(index_ts)[:40]!r} is no finite number: not indexed by time")
            index_ts = None
    return (ev, ttl_days, index_ts), problems


def _good_follow_up(follow) -> bool:
    if not isinstance(follow, (list, tuple)) or len(follow) != 3:
        return False
    key, due, member = follow
    if not (isinstance(key, str) and key and isinstance(member, str)) or isinstance(due, bool):
        return False
    try:
        score(due)
    except (TypeError, ValueError, OverflowError):
        return False
    return True
