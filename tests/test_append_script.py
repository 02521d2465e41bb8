"""The call log's script does less per event (EXPIRE NX instead of TTL then EXPIRE, a call's TTL
checked once per batch, and only the keys and arguments an event uses) and leaves Redis exactly as
the script before it did: the same keys, values, expiry decisions and replies, step by step, in
every case the write meets."""
from __future__ import annotations

import datetime as dt
import time

import redis

from ivr import keys as key_names
from ivr.calls.append import APPEND, DAY, FOLLOW, UNKNOWN_INDEX_CAP, UNKNOWN_LINE, append_arguments, follow_up, index_line, score
from ivr.calls.event_json import encode_event
from ivr.calls.events import event

LINE, OTHER = "+4570112230", "+4570112231"
NOW = time.time()     # index scores near the real clock: the script trims against it
T0 = dt.datetime.fromtimestamp(NOW, dt.timezone.utc)

# The script as it was before it did less per event: the reference for "the same results".
BEFORE = """
local out = {}
for i = 0, #KEYS / 5 - 1 do
  local k, a = i * 5, i * 10
  if redis.call('SADD', KEYS[k + 2], ARGV[a + 1]) == 0 then
    out[i + 1] = 0
  else
    redis.call('RPUSH', KEYS[k + 1], ARGV[a + 2])
    if redis.call('TTL', KEYS[k + 1]) < 0 then
      redis.call('EXPIRE', KEYS[k + 1], ARGV[a + 3])
      redis.call('EXPIRE', KEYS[k + 2], ARGV[a + 3])
    end
    if ARGV[a + 4] ~= '' then
      redis.call('ZADD', KEYS[k + 3], 'NX', ARGV[a + 4], ARGV[a + 5])
      redis.call('ZREMRANGEBYSCORE', KEYS[k + 3], '-inf', ARGV[a + 6])
      if tonumber(ARGV[a + 8]) > 0 then redis.call('ZREMRANGEBYRANK', KEYS[k + 3], 0, -1 - tonumber(ARGV[a + 8])) end
      redis.call('EXPIRE', KEYS[k + 3], ARGV[a + 3])
      redis.call('SADD', KEYS[k + 4], ARGV[a + 7])
      if redis.call('TTL', KEYS[k + 4]) < tonumber(ARGV[a + 3]) then redis.call('EXPIRE', KEYS[k + 4], ARGV[a + 3]) end
    end
    if ARGV[a + 9] ~= '' then redis.call('ZADD', KEYS[k + 5], ARGV[a + 9], ARGV[a + 10]) end
    out[i + 1] = 1
  end
end
local want = tonumber(ARGV[#KEYS * 2 + 1])
if want < 0 then want = (out[-want] == 0) and -want or 0 end
if want > 0 then return {out, redis.call('LRANGE', KEYS[(want - 1) * 5 + 1], 0, -1)} end
return {out, {}}
"""


def _arguments_before(items: list) -> tuple[list, list]:
    """KEYS and ARGV as BEFORE takes them: per event, 5 KEYS (events, seen, index, lines, follow-up
    set) and 10 ARGV (id, JSON, ttl, index score or '', sid, cutoff, line, cap, follow-up score or
    '', member), then the read-back wanted (none: 0)."""
    script_keys, args = [], []
    for ev, ttl_days, index_ts in items:
        sid, line = ev["sid"], index_line(ev.get("line"))
        ttl = int(ttl_days) * DAY
        follow = ev.get(FOLLOW)
        if follow:
            ev = {k: v for k, v in ev.items() if k != FOLLOW}
        events = key_names.call_events(sid)
        follow_key, due, member = (follow[0], score(follow[1]), follow[2]) if follow else (events, "", "")
        script_keys += [events, key_names.call_seen(sid), key_names.calls_index(line), key_names.calls_lines(), follow_key]
        args += [ev["id"], encode_event(ev), str(ttl), "" if index_ts is None else score(index_ts), sid,
                 repr((index_ts or time.time()) - ttl), line, str(UNKNOWN_INDEX_CAP) if line == UNKNOWN_LINE else "0",
                 due, member]
    return script_keys, args + ["0"]


def _sid(n: int) -> str:
    return f"CA{n:032d}"


def _ev(n: int, kind: str, dedup: str, line: str = LINE, **data) -> dict:
    return event(_sid(n), line, kind, dedup, T0, **data)


def _steps():
    """Yield (what, items) batches, and ("persist", key) / ("pause", seconds) moves."""
    yield "new call, indexed", [(_ev(1, "start", "start"), 90, NOW)]
    yield "two events of one call", [(_ev(1, "entry", "menu:1", digits="1"), 90, None),
                                     (_ev(1, "service", "service:x", decision={"route": "on_call", "at": "Før"}), 90, None)]
    yield "a repeat and a new one", [(_ev(1, "entry", "menu:1", digits="1"), 90, None),
                                     (_ev(1, "attempt", "0", status="busy"), 90, None)]
    yield "two calls interleaved", [(_ev(2, "start", "start", line=OTHER), 30, NOW + 1),
                                    (_ev(1, "attempt", "1", status="no-answer"), 90, None),
                                    (_ev(2, "entry", "menu:2"), 30, None)]
    yield "lines kept longer", [(_ev(3, "start", "start", line=OTHER), 365, NOW + 2)]
    yield "lines not shortened", [(_ev(4, "start", "start"), 7, NOW + 3)]
    yield "an old call falls out of the index", [(_ev(5, "start", "start"), 1, NOW - 3 * 86400),
                                                 (_ev(6, "start", "start"), 1, NOW + 4)]
    yield "a follow-up with its event", [(follow_up(_ev(1, "end", "end", status="completed"), "hotline:due",
                                                    NOW + 60, _sid(1)), 90, None)]
    yield "its repeat adds no follow-up", [(follow_up(_ev(1, "end", "end"), "hotline:due", NOW + 99, "x"), 90, None)]
    yield "an indexed event with a follow-up between plain ones", [
        (_ev(9, "entry", "menu:1"), 90, None),
        (follow_up(_ev(9, "start", "start"), "hotline:due", NOW + 30, _sid(9)), 90, NOW + 6),
        (follow_up(_ev(1, "end", "again"), "hotline:due", NOW + 31, "y"), 90, None),
        (_ev(9, "entry", "menu:2"), 90, None)]
    yield "ttl 0 drops the call at once", [(_ev(7, "start", "start"), 0, None), (_ev(7, "entry", "menu:1"), 0, None),
                                           (_ev(7, "entry", "menu:2"), 90, None)]
    yield ("persist", "hotline:call:%s:seen" % _sid(1))     # e.g. a set rewritten by a purge's mask
    yield "a call whose seen set lost its TTL", [(_ev(1, "note", "a"), 90, None)]
    yield ("persist", "hotline:call:%s:events" % _sid(1))
    yield "a call whose log lost its TTL", [(_ev(1, "note", "b"), 90, None), (_ev(1, "note", "c"), 30, None)]
    yield ("pause", 1.2)                                      # the set of lines: its TTL now rounds down
    yield "lines kept on after a while", [(_ev(8, "start", "start"), 365, NOW + 5)]
    unknown = [(_ev(100 + n, "start", "start", line="unknown"), 7, NOW + 10 + n) for n in range(1003)]
    yield "unknown numbers, past the cap", unknown[:600]
    yield "unknown numbers, past the cap (2)", unknown[600:]


def _state(r: redis.Redis) -> dict:
    out = {}
    for key in sorted(r.keys("*")):
        kind = r.type(key)
        value = {"list": lambda: r.lrange(key, 0, -1), "set": lambda: sorted(r.smembers(key)),
                 "zset": lambda: r.zrange(key, 0, -1, withscores=True)}[kind]()
        out[key] = (kind, value, r.execute_command("PEXPIRETIME", key))
    return out


def test_the_script_leaves_every_key_ttl_and_reply_as_the_script_before_it(redis_url):
    base = redis_url.rsplit("/", 1)[0]
    before, after = (redis.Redis.from_url(f"{base}/{db}", decode_responses=True) for db in (1, 2))
    old, new = before.register_script(BEFORE), after.register_script(APPEND)
    was_old, was_new = {}, {}
    for step in _steps():
        if step[0] == "persist":
            assert before.persist(step[1]) and after.persist(step[1])
            was_old, was_new = _state(before), _state(after)
            continue
        if step[0] == "pause":
            time.sleep(step[1])
            continue
        what, items = step
        keys, args = append_arguments(items)
        reply = new(keys=keys, args=args)
        old_keys, old_args = _arguments_before(items)
        assert old(keys=old_keys, args=old_args) == [reply, []], what   # the old one read no log back for 0
        now_old, now_new = _state(before), _state(after)
        assert {k: v[:2] for k, v in now_old.items()} == {k: v[:2] for k, v in now_new.items()}, what
        for key, (_, _, expires) in now_new.items():
            expired_old = now_old[key][2]
            # Set or not, and set again or not, in this step: the same (each step takes some ms).
            assert (expires == -1) == (expired_old == -1), (what, key)
            assert (expires != was_new.get(key, (0, 0, -1))[2]) == (expired_old != was_old.get(key, (0, 0, -1))[2]), (what, key)
            assert abs(expires - expired_old) < 5000, (what, key)     # the two ran moments apart
        was_old, was_new = now_old, now_new
        time.sleep(0.005)
    assert len(before.zrange("hotline:calls:unknown", 0, -1)) == 1000
    assert before.ttl("hotline:calls:lines") > 300 * 86400
