"""Helpers shared by the SMS and outage tests (not fixtures of the whole suite)."""
from __future__ import annotations

from collections import Counter

import redis

from ivr.sms.blast import Blast, BlastStore

LINE = "+4570112230"
PUBLIC = "https://hotline.example.org"


def numbers(n: int, start: int = 34412350) -> list[str]:
    """Return `n` distinct valid Danish placeholder numbers in E.164."""
    return [f"+45{start + i}" for i in range(n)]


def make_blast(blast_id: str, total: int, rate: float = 200.0, body: str = "Nexus er nede") -> Blast:
    return Blast(id=blast_id, body=body, sender_from=LINE, messaging_service_sid=None, rate=rate,
                 status_callback=f"{PUBLIC}/sms/status", outage_id="t", kind="down", total=total)


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def per_recipient(fake) -> Counter:
    """Return how many messages the fake accepted per To number."""
    return Counter(m["to"] for m in fake.messages)


def all_done(url: str, blast_id: str):
    store = BlastStore(client(url))

    def check() -> bool:
        p = store.progress(blast_id)
        return p["total"] > 0 and p["done"] >= p["total"]
    return check


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Return the most events in any half-open window [t, t + window) starting at an event."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + window:
            j += 1
        best = max(best, j - i)
    return best
