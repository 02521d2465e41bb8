"""Listing recent calls (the console's list, `hotline calls`): from the per-line indexes in Redis,
and from the spool for calls Redis has not seen yet. A mixin of ivr.calls.store.CallStore, which
gives it `redis`, `spool` and `record`."""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from ivr import keys
from ivr.calls.events import fold


class RecentCalls:
    """Recent calls' records, newest first (see the module docstring)."""

    def recent(self, lines: Iterable[str] | None = None, since: dt.datetime | None = None,
               limit: int = 1000) -> list[dict]:
        """Return records of recent calls, newest first; raises redis.RedisError when Redis is down.

        `lines` None means every line that has an index. Spooled calls not yet in Redis are included,
        read from the spool: the replay is left to the web processes' flusher, which runs the app's
        outcome hooks for what it replays (a missed call logged while Redis was down still pages).
        """
        if self.redis is None:
            return self.spooled(lines, since)
        chosen = list(lines) if lines is not None else sorted(self.redis.smembers(keys.calls_lines()))
        low = since.timestamp() if since else "-inf"
        pairs: list[tuple[float, str]] = []
        for line in chosen:
            pairs.extend((score, sid) for sid, score in
                         self.redis.zrangebyscore(keys.calls_index(line), low, "+inf", withscores=True))
        pairs.sort(reverse=True)
        records = []
        for _, sid in pairs[:limit]:
            record = self.record(sid)
            if record is not None and record.get("line") is not None:
                records.append(record)
        listed = {r["call_sid"] for r in records}
        for spooled in self.spooled(lines, since):
            if spooled["call_sid"] not in listed:
                records.append(self.record(spooled["call_sid"]) or spooled)
        records.sort(key=lambda r: r.get("started_at") or "", reverse=True)
        return records[:limit]

    def spooled(self, lines: Iterable[str] | None = None, since: dt.datetime | None = None) -> list[dict]:
        """Return records of calls that exist only in the spool (Redis down or not configured)."""
        sids = {p.name.split(".", 1)[0] for p in self.spool.dir.glob("*.*")} if self.spool.dir.is_dir() else set()
        wanted = set(lines) if lines is not None else None
        out = []
        for sid in sids:
            record = fold(sid, self.spool.events(sid))
            if wanted is not None and record.get("line") not in wanted:
                continue
            if since and (record.get("started_at") or "") < since.astimezone(dt.timezone.utc).isoformat():
                continue
            out.append(record)
        return sorted(out, key=lambda r: r.get("started_at") or "", reverse=True)
