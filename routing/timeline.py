"""Who answers when: a service's route over a span of time, as constant segments."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from routing.decide import next_change, target_at
from routing.model import Plan, Target


@dataclass(frozen=True)
class Segment:
    """From `start` to `end` (local, aware) calls about the service go to `target`."""

    start: dt.datetime
    end: dt.datetime
    target: Target


def segments(plan: Plan, service_id: str, start: dt.datetime, end: dt.datetime) -> list[Segment]:
    """Return the constant-route segments covering [start, end) in the plan's time zone.

    Raises KeyError for an unknown service and ValueError for naive datetimes.
    """
    service = plan.services[service_id]
    out: list[Segment] = []
    moment = start.astimezone(plan.tz)
    end = end.astimezone(plan.tz)
    while moment < end:
        target = target_at(service, moment)
        change = next_change(plan, service_id, moment)
        stop = min(change, end) if change is not None else end
        out.append(Segment(moment, stop.astimezone(plan.tz), target))
        moment = stop.astimezone(plan.tz)
    return out
