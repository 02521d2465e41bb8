"""The routing decision: the first rule whose schedule is open wins, else the service's default."""
from __future__ import annotations

import datetime as dt

from routing.model import Decision, Plan, Service, Target
from schedules.clock import WEEKDAYS

_MAX_CHANGE_CANDIDATES = 64
UTC = dt.timezone.utc
_DAY_NAMES = tuple(day.capitalize() for day in WEEKDAYS)


def decide(plan: Plan, service_id: str, at: dt.datetime) -> Decision:
    """Return who takes a call about `service_id` at aware moment `at`.

    Raises KeyError for an unknown service and ValueError for a naive datetime.
    """
    service = plan.services[service_id]
    local = _local(plan, at)
    target, reason, announcements = _choose(service, local)
    change = _next_change(plan, service, local.astimezone(UTC), target)
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


def _local(plan: Plan, at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a moment must be an aware datetime")
    return at.astimezone(plan.tz)


def _choose(service: Service, local: dt.datetime) -> tuple[Target, str, tuple[str, ...]]:
    stamp = (f"{_DAY_NAMES[local.weekday()]} {local.year}-{local.month:02d}-{local.day:02d} "
             f"{local.hour:02d}:{local.minute:02d}")
    closed_notes: list[str] = []
    announcements: list[str] = []
    if service.announcement:
        announcements.append(service.announcement)
    for rule in service.rules:
        state = rule.schedule.state_at(local)
        if state.announcements:
            announcements.extend(a for a in state.announcements if a not in announcements)
        if state.open:
            reason = f"{stamp}: within {rule.schedule.label} ({state.describe()}) -> {rule.target.name}"
            return rule.target, reason, _with_target(announcements, rule.target)
        closed_notes.append(f"{rule.schedule.label} ({state.describe()})")
    outside = "; ".join(closed_notes)
    lead = f"outside {outside}" if outside else "answered the same at all times"
    reason = f"{stamp}: {lead} -> {service.default.name}"
    return service.default, reason, _with_target(announcements, service.default)


def _with_target(announcements: list[str], target: Target) -> tuple[str, ...]:
    if target.announcement and target.announcement not in announcements:
        return tuple(announcements + [target.announcement])
    return tuple(announcements)


def next_change(plan: Plan, service_id: str, at: dt.datetime) -> dt.datetime | None:
    """Return the first moment after `at` when this service's route changes target, or None."""
    service = plan.services[service_id]
    local = _local(plan, at)
    return _next_change(plan, service, local.astimezone(UTC), target_at(service, local))


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
