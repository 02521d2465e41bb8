"""A straightforward reference for routing decisions: no caches, no shortcuts.

Recomputes every day's windows from `Schedule.day_rule` and walks day by day, so the optimised
code in schedules/ and routing/ can be compared with it over many moments.
"""
from __future__ import annotations

import datetime as dt

from routing.model import Plan, Service, Target
from schedules.clock import WEEKDAYS, describe_windows
from schedules.intervals import containing, merge, subtract
from schedules.schedule import _BLOCK, _HORIZON_BLOCKS, Schedule, ScheduleState

UTC = dt.timezone.utc


def _instant(schedule: Schedule, local: dt.datetime) -> dt.datetime:
    return local.replace(tzinfo=schedule.tz).astimezone(UTC)


def day_intervals(schedule: Schedule, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    midnight = dt.datetime.combine(day, dt.time())
    return [(_instant(schedule, midnight + dt.timedelta(minutes=w.start)),
             _instant(schedule, midnight + dt.timedelta(minutes=w.end)))
            for w in schedule.day_rule(day).windows]


def state_at(schedule: Schedule, at: dt.datetime) -> ScheduleState:
    at = at.astimezone(UTC)
    day = at.astimezone(schedule.tz).date()
    inside = [o for o in schedule.time_overrides
              if _instant(schedule, o.start) <= at < _instant(schedule, o.end)]
    announcements = tuple(o.announcement for o in inside if o.announcement)
    for o in inside:
        if o.open is not None:
            span = f"{o.start:%Y-%m-%d %H:%M} to {o.end:%Y-%m-%d %H:%M}"
            return ScheduleState(o.open, o.name, span, announcements)
    owner, is_open = day, False
    for candidate in (day - dt.timedelta(days=1), day):
        if any(start <= at < end for start, end in day_intervals(schedule, candidate)):
            owner, is_open = candidate, True
            break
    rule = schedule.day_rule(owner)
    notes = announcements + ((rule.announcement,) if rule.announcement else ())
    return ScheduleState(is_open, rule.label, describe_windows(rule.windows), notes)


def schedule_next_change(schedule: Schedule, at: dt.datetime) -> dt.datetime | None:
    """The first open/close change after `at` within the horizon, from an uncached day walk."""
    at = at.astimezone(UTC)
    day = at.astimezone(schedule.tz).date()
    first_day = ((day.toordinal() - 1) // _BLOCK) * _BLOCK
    last_day = first_day + _HORIZON_BLOCKS * _BLOCK
    spans = []
    for ordinal in range(first_day, last_day):
        spans.extend(day_intervals(schedule, dt.date.fromordinal(ordinal)))
    spans = merge(spans)
    for o in schedule.time_overrides:
        span = (_instant(schedule, o.start), _instant(schedule, o.end))
        if o.open is True:
            spans = merge(spans + [span])
        elif o.open is False:
            spans = subtract(spans, span)
    horizon = _instant(schedule, dt.datetime.combine(dt.date.fromordinal(last_day), dt.time()))
    current = containing(spans, at)
    candidate = current[1] if current else next((s for s, _ in spans if s > at), None)
    return candidate if candidate is not None and candidate < horizon else None


def target_at(service: Service, local: dt.datetime) -> Target:
    for rule in service.rules:
        if state_at(rule.schedule, local).open:
            return rule.target
    return service.default


def next_change(plan: Plan, service: Service, local: dt.datetime) -> dt.datetime | None:
    current = target_at(service, local)
    moment = local
    for _ in range(64):
        candidates = [c for c in (schedule_next_change(r.schedule, moment) for r in service.rules) if c]
        if not candidates:
            return None
        moment = min(candidates).astimezone(plan.tz)
        if target_at(service, moment).id != current.id:
            return moment
    return None


def decide(plan: Plan, service_id: str, at: dt.datetime) -> dict:
    """Return the fields of the decision that depend on the schedules: target, reason,
    announcements, next change."""
    service = plan.services[service_id]
    local = at.astimezone(plan.tz)
    stamp = f"{WEEKDAYS[local.weekday()].capitalize()} {local:%Y-%m-%d %H:%M}"
    notes, announcements = [], [service.announcement] if service.announcement else []
    chosen, reason = None, ""
    for rule in service.rules:
        state = state_at(rule.schedule, local)
        announcements.extend(a for a in state.announcements if a not in announcements)
        if state.open:
            chosen = rule.target
            reason = f"{stamp}: within {rule.schedule.label} ({state.describe()}) -> {chosen.name}"
            break
        notes.append(f"{rule.schedule.label} ({state.describe()})")
    if chosen is None:
        chosen = service.default
        lead = f"outside {'; '.join(notes)}" if notes else "answered the same at all times"
        reason = f"{stamp}: {lead} -> {chosen.name}"
    if chosen.announcement and chosen.announcement not in announcements:
        announcements.append(chosen.announcement)
    return {"target": chosen.id, "route": chosen.kind, "reason": reason, "at": local,
            "announcements": tuple(announcements), "next_change": next_change(plan, service, local)}
