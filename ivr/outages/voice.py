"""The outage module's part of the Flask app: `init_app(app)` adds

- the status announcer: callers hear each open outage first ("Nexus has been down since 09:12;
  we are working on it"), in the hotline's language, read from the process's OutageStatusCopy
  (kept fresh off the call path, so a hung Redis never holds up a call);
- the service hook: a call reaching a service whose `system` has an open outage is linked to it
  (the call record's extra gets {"outage_id": ...}, from the same copy; the outage lists the
  CallSid when Redis takes it);
- the staff entry blueprint (/voice/staff/*, see ivr.outages.staff);
- POST /sms/status, Twilio's StatusCallback for outage SMS (signed; see ivr.signature).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Callable

from flask import Blueprint, Flask, Response, current_app, request
from redis import Redis, RedisError

from ivr import metrics
from ivr.hotline import Hotline
from ivr.outages import texts
from ivr.outages.status_copy import OutageStatusCopy
from ivr.outages.store import OutageStore

log = logging.getLogger(__name__)
receipts = Blueprint("sms_receipts", __name__)
_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
_STATUS = re.compile(r"^[a-z_-]{2,20}$")

Announcer = Callable[[Hotline, "Redis | None", dt.datetime], list]
ServiceHook = Callable[[Hotline, str, str, "Redis | None", dt.datetime], dict]


def announcer(status: OutageStatusCopy) -> Announcer:
    """Return the announcer `(hotline, redis, now) -> sentences`: one per open outage of the
    hotline's systems, oldest first, as of `status`'s last refresh (`redis` is not used)."""

    def announce(hotline: Hotline, redis: Redis | None, now: dt.datetime) -> list[str]:
        if not hotline.systems:
            return []
        template = hotline.outages.announcement if hotline.outages else None
        out = []
        for outage in status.open_outages(hotline):
            values = texts.fields(system=hotline.systems.get(outage.system, outage.system),
                                  declared_at=outage.declared_at, now=now, tz=hotline.tz,
                                  language=hotline.language, message=outage.message,
                                  line=hotline.line, hotline=hotline.name)
            out.append(texts.announcement(template, hotline.language, values))
        return out

    return announce


def service_hook(status: OutageStatusCopy) -> ServiceHook:
    """Return the hook `(hotline, service_id, call_sid, redis, now) -> extra`: {"outage_id",
    "outage_system"} when the service's system has an open outage in `status`, else {}.

    It also adds the CallSid to the outage's calls through `redis` (the gated client); when Redis
    does not take it, that is logged and the call record still names the outage.
    """

    def link(hotline: Hotline, service_id: str, call_sid: str, redis: Redis | None, now: dt.datetime) -> dict:
        service = hotline.plan.services.get(service_id)
        if service is None or not service.system:
            return {}
        outage_id = status.open_id(hotline, service.system)
        if outage_id is None:
            return {}
        if call_sid and redis is not None:
            try:
                OutageStore(redis).link_call(outage_id, call_sid)
            except RedisError as exc:
                log.warning("call %s not added to outage %s: %s", call_sid, outage_id, exc)
        return {"outage_id": outage_id, "outage_system": service.system}

    return link


@receipts.post("/sms/status")
def sms_status():
    """Record a message's delivery status (only ever forward); 204 when taken, 503 without Redis."""
    from ivr.app import state_of  # ivr.app loads this module as a plugin
    from ivr.sms.blast import BlastStore

    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not _SID.match(sid) or not _STATUS.match(status):
        return Response("bad MessageSid or MessageStatus", status=400, mimetype="text/plain")
    redis = state_of(current_app).redis
    if redis is None:
        return Response("no Redis", status=503, mimetype="text/plain")
    try:
        blasts = BlastStore(redis)
        if blasts.record_status(sid, status, (request.form.get("ErrorCode") or "")[:10]):
            metrics.sms_receipt(blasts.kind_of_message(sid), status)
    except RedisError as exc:
        log.error("could not record status %s for %s: %s", status, sid, exc)
        return Response("Redis unavailable", status=503, mimetype="text/plain")
    return Response(status=204)


def init_app(app: Flask) -> None:
    """Register the staff entry, the SMS status callback, and the announcer and service hook that
    read `app.extensions["hotline.outage_status"]` (an OutageStatusCopy)."""
    from ivr.outages.staff import bp as staff_bp

    app.register_blueprint(staff_bp)
    app.register_blueprint(receipts)
    state = app.extensions["hotline"]
    status = OutageStatusCopy(state.redis, lambda: state.config.lines())
    app.extensions["hotline.outage_status"] = status
    app.extensions["hotline.announcers"].append(announcer(status))
    app.extensions["hotline.service_hooks"].append(service_hook(status))
