"""The routing decision: the first rule whose schedule is open wins, else the service's default."""
from __future__ import annotations

import datetime as dt

from routing.day_routes import piece_at
from routing.model import Decision, Plan, Service, Target
from schedules.clock import WEEKDAYS

_MAX_CHANGE_CANDIDATES = 64
UTC = dt.timezone.utc
_DAY_NAMES = tuple(day.capitalize() for day in WEEKDAYS)
_CLOCK = tuple(f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(24 * 60))


def decide(plan: Plan, service_id: str, at: dt.datetime) -> Decision:
    """Return who takes a call about `service_id` at aware moment `at`.

    Raises KeyError for an unknown service and ValueError for a naive datetime.
    """
    service = plan.services[service_id]
    local = _local(plan, at)
    utc = at if at.tzinfo is UTC else local.astimezone(UTC)
    piece = piece_at(plan, service, local, utc, _solve)
    if piece is None:
        target, tail, announcements, change = _solve(plan, service, local, utc)
        reason = _stamp(local) + tail
    else:
        target, prefix, tail, announcements, change = piece
        reason = prefix + _CLOCK[local.hour * 60 + local.minute] + tail
    return Decision(
        line=plan.line,
        service=service.id,
        service_name=service.name,
        route=target.kind,
        target=target.id,
        target_name=target.name,
        steps=target.steps,
        exhausted=target.exhausted,
        reason=reason,
        at=local,
        next_change=change,
        announcements=announcements,
        config_version=plan.version,
    )


def decide_uncached(plan: Plan, service_id: str, at: dt.datetime) -> Decision:
    """Return what `decide` returns, worked out from the schedules without the day tables
    (the plain path, for comparison). Raises as `decide` does."""
    service = plan.services[service_id]
    local = _local(plan, at)
    target, tail, announcements, change = _solve(plan, service, local, local.astimezone(UTC))
    return Decision(plan.line, service.id, service.name, target.kind, target.id, target.name, target.steps,
                    target.exhausted, _stamp(local) + tail, local, change, announcements, plan.version)


def _local(plan: Plan, at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a moment must be an aware datetime")
    return at.astimezone(plan.tz)


def _stamp(local: dt.datetime) -> str:
    return (f"{_DAY_NAMES[local.weekday()]} {local.year}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}")


def _solve(plan: Plan, service: Service, local: dt.datetime, utc: dt.datetime
           ) -> tuple[Target, str, tuple[str, ...], dt.datetime | None]:
    """Return the target at `local`, the reason after its time stamp, the announcements and the
    next change, straight from the schedules."""
    target, tail, announcements = _choose(service, local)
    return target, tail, announcements, _next_change(plan, service, utc, target)


def _choose(service: Service, local: dt.datetime) -> tuple[Target, str, tuple[str, ...]]:
    closed_notes: list[str] = []
    announcements: list[str] = []
    if service.announcement:
        announcements.append(service.announcement)
    for rule in service.rules:
        state = rule.schedule.state_at(local)
        if state.announcements:
            announcements.extend(a for a in state.announcements if a not in announcements)
        if state.open:
            tail = f": within {rule.schedule.label} ({state.describe()}) -> {rule.target.name}"
            return rule.target, tail, _with_target(announcements, rule.target)
        closed_notes.append(f"{rule.schedule.label} ({state.describe()})")
    outside = "; ".join(closed_notes)
    lead = f"outside {outside}" if outside else "answered the same at all times"
    return service.default, f": {lead} -> {service.default.name}", _with_target(announcements, service.default)


def _with_target(announcements: list[str], target: Target) -> tuple[str, ...]:
    if target.announcement and target.announcement not in announcements:
        return tuple(announcements + [target.announcement])
    return tuple(announcements)


def next_change(plan: Plan, service_id: str, at: dt.datetime) -> dt.datetime | None:
    """Return the first moment after `at` when this service's route changes target, or None."""
    service = plan.services[service_id]
    local = _local(plan, at)
    utc = at if at.tzinfo is UTC else local.astimezone(UTC)
    piece = piece_at(plan, service, local, utc, _solve)
    if piece is not None:
        return piece.change
    return _next_change(plan, service, utc, target_at(service, local))


def _next_change(plan: Plan, service: Service, utc: dt.datetime, current: Target) -> dt.datetime | None:
    """Return the first schedule change after `utc` at which the target is no longer `current`
    (looking at most at _MAX_CHANGE_CANDIDATES changes), in the plan's zone, or None."""
    moment = utc
    for _ in range(_MAX_CHANGE_CANDIDATES):
        soonest = None
        for rule in service.rules:
            candidate = rule.schedule.next_change(moment)
            if candidate is not None and (soonest is None or candidate < soonest):
                soonest = candidate
        if soonest is None:
            return None
        moment = soonest
        if target_at(service, moment).id != current.id:
            return moment.astimezone(plan.tz)
    return None


def target_at(service: Service, local: dt.datetime) -> Target:
    """Return the target that answers calls about `service` at `local`."""
    for rule in service.rules:
        if rule.schedule.is_open(local):
            return rule.target
    return service.default
