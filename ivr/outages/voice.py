"""The outage module's part of the Flask app: `init_app(app)` adds

- the status announcer: callers hear each open outage first ("Nexus has been down since 09:12;
  we are working on it"), in the hotline's language;
- the service hook: a call reaching a service whose `system` has an open outage is linked to it
  (the call record's extra gets {"outage_id": ...}; the outage lists the CallSid);
- the staff entry blueprint (/voice/staff/*, see ivr.outages.staff);
- POST /sms/status, Twilio's StatusCallback for outage SMS (signed; see ivr.signature).
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from flask import Blueprint, Flask, Response, current_app, request
from redis import Redis, RedisError

from ivr import metrics
from ivr.hotline import Hotline
from ivr.outages import texts
from ivr.outages.store import OutageStore

log = logging.getLogger(__name__)
receipts = Blueprint("sms_receipts", __name__)
_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
_STATUS = re.compile(r"^[a-z_-]{2,20}$")


def announcer(hotline: Hotline, redis: Redis | None, now: dt.datetime) -> list[str]:
    """Return one spoken sentence per open outage of the hotline's systems, oldest first."""
    if redis is None or not hotline.systems:
        return []
    template = hotline.outages.announcement if hotline.outages else None
    out = []
    for outage in OutageStore(redis).open_outages(hotline.line, list(hotline.systems)):
        values = texts.fields(system=hotline.systems.get(outage.system, outage.system), declared_at=outage.declared_at,
                              now=now, tz=hotline.tz, language=hotline.language, message=outage.message,
                              line=hotline.line, hotline=hotline.name)
        out.append(texts.announcement(template, hotline.language, values))
    return out


def service_hook(hotline: Hotline, service_id: str, call_sid: str, redis: Redis | None, now: dt.datetime) -> dict:
    """Return {"outage_id", "outage_system"} when the service's system has an open outage, else {}.

    Also adds the CallSid to the outage's calls.
    """
    service = hotline.plan.services.get(service_id)
    if redis is None or service is None or not service.system:
        return {}
    store = OutageStore(redis)
    outage_id = store.open_id(hotline.line, service.system)
    if outage_id is None:
        return {}
    if call_sid:
        store.link_call(outage_id, call_sid)
    return {"outage_id": outage_id, "outage_system": service.system}


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
    """Register the staff entry, the SMS status callback, the announcer and the service hook."""
    from ivr.outages.staff import bp as staff_bp

    app.register_blueprint(staff_bp)
    app.register_blueprint(receipts)
    app.extensions["hotline.announcers"].append(announcer)
    app.extensions["hotline.service_hooks"].append(service_hook)
