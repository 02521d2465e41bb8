"""Arithmetic on sorted lists of half-open time intervals [start, end)."""
from __future__ import annotations

import datetime as dt

Interval = tuple[dt.datetime, dt.datetime]


def merge(intervals: list[Interval]) -> list[Interval]:
    """Return the union of `intervals` as sorted, disjoint, non-touching intervals."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(intervals: list[Interval], hole: Interval) -> list[Interval]:
    """Return `intervals` (sorted, disjoint) with the time in `hole` removed."""
    h_start, h_end = hole
    out: list[Interval] = []
    for start, end in intervals:
        if end <= h_start or start >= h_end:
            out.append((start, end))
            continue
        if start < h_start:
            out.append((start, h_start))
        if end > h_end:
            out.append((h_end, end))
    return out


def containing(intervals: list[Interval], moment: dt.datetime) -> Interval | None:
    """Return the interval that contains `moment`, or None."""
    for start, end in intervals:
        if start <= moment < end:
            return (start, end)
        if start > moment:
            break
    return None
