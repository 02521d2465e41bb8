"""Paging people about missed incidents: one SMS blast per alert and round, through the same
exactly-once, rate-limited RQ path as the outage blasts (ivr.sms), re-notification as RQ
scheduled jobs with fixed ids that an acknowledgement cancels.

No Flask here (RQ workers run this). Blast ids are fixed (`incident-<line>-<lead>-r<round>`), so
a repeated or retried job never texts anyone twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from zoneinfo import ZoneInfo

from redis import Redis
from rq import Retry

from ivr import keys
from ivr.incidents import links, texts
from ivr.incidents.alerts import AlertStore
from ivr.incidents.model import MAX_ROUNDS, IncidentState, level_of, next_round_after
from ivr.incidents.store import IncidentStore
from ivr.sms.blast import Blast, BlastStore
from ivr.sms.jobs import _connection, cancel_jobs, queue, start_blast

log = logging.getLogger(__name__)
DEFAULT_GROUP_SECONDS = 60.0


def group_seconds() -> float:
    """Return how long an outage's first missed call waits for others to group with (seconds)."""
    raw = os.environ.get("HOTLINE_INCIDENT_GROUP_SECONDS")
    return float(raw) if raw else DEFAULT_GROUP_SECONDS


def blast_id(line: str, lead: int, what: str) -> str:
    """Return the fixed blast id of an alert's round ("r0", "r1", ...) or "taken" message."""
    return f"incident-{line.lstrip('+')}-{lead}-{what}"


def page_job_id(line: str, lead: int, round_: int) -> str:
    """Return the RQ job id of an alert's paging round."""
    return f"hotline-page-{line.lstrip('+')}-{lead}-{round_}"


def start_alert(redis: Redis, line: str, number: int, snapshot: dict, outage_id: str | None,
                at: dt.datetime, ttl_days: int) -> int:
    """Put a new missed incident into an alert and schedule its first page; returns the lead.

    A call during an open outage joins the outage's alert while it waits; the first one waits
    `group_seconds()` for others, so the page names them all. Raises redis errors.
    """
    alerts = AlertStore(redis)
    lead, created, follow_up = alerts.join(line, number, snapshot, outage_id, at, ttl_days)
    IncidentStore(redis).set_fields(line, number, alert=str(lead))
    if follow_up:  # a late call: one follow-up page after the grouping window names it (and any others)
        queue(redis).enqueue_in(dt.timedelta(seconds=group_seconds()), follow_up_page, line, lead,
                                job_id=f"hotline-followup-{line.lstrip('+')}-{lead}-{number}", result_ttl=86400,
                                retry=Retry(max=3, interval=[5, 15, 30]))
    if created:
        options = {"job_id": page_job_id(line, lead, 0), "result_ttl": 86400,
                   "retry": Retry(max=3, interval=[5, 15, 30])}
        if outage_id and group_seconds() > 0:
            queue(redis).enqueue_in(dt.timedelta(seconds=group_seconds()), page, line, lead, 0, **options)
        else:
            queue(redis).enqueue(page, line, lead, 0, **options)  # at once, not via the scheduler's poll
    return lead


def page(line: str, lead: int, round_: int) -> str:
    """RQ job: page round `round_` of an alert; returns "sent", "skipped", "nothing", "no sender"
    (logged as an error) or "gone"."""
    redis = _connection()
    alerts = AlertStore(redis)
    alert = alerts.get(line, lead)
    if alert is None:
        return "gone"
    now = dt.datetime.now(dt.timezone.utc)
    sms = alert["snapshot"].get("sms") or {}
    if not sms.get("sender_from") and not sms.get("messaging_service_sid"):
        log.error("alert %s/%s: NOBODY PAGED, no SMS sender: set outages.sender in the config, or "
                  "TWILIO_FROM_NUMBER / TWILIO_MESSAGING_SERVICE_SID for the web app", line, lead)
        return "no sender"
    bid = blast_id(line, lead, f"r{round_}")
    if not alerts.fire(line, lead, round_, now):
        # Already fired: finish only a run that died between firing and starting its blast.
        if round_ not in alert["fired"] or alert["state"] != "notified" or BlastStore(redis).get(bid):
            return "skipped"
    snap = alert["snapshot"]
    level = level_of(snap.get("levels") or [], round_)
    if level is None:
        return "nothing"
    store = IncidentStore(redis)
    waiting = [i for i in (store.get(line, n) for n in alerts.members(line, lead))
               if i and i["state"] == IncidentState.MISSED.value]
    if not waiting:
        return "nothing"
    secret, epoch = links.secret_from_env(), time.time()
    urls = {i["id"]: links.url(snap.get("base_url") or "", line, i["id"], secret, epoch)
            for i in waiting if i.get("recording_url")}
    body = texts.notification(waiting, snap.get("hotline") or line, snap.get("language") or "en",
                              ZoneInfo(snap.get("tz") or "UTC"), now, {k: v for k, v in urls.items() if v},
                              reminder=round_ > 0)
    numbers = list(level["numbers"])
    _send(redis, snap, bid, body, numbers, alert.get("outage_id") or "", alerts.seconds_left(line, lead))
    alerts.add_blast(line, lead, bid)
    alerts.mark_notified(numbers, line, lead, now)
    alerts.mark_paged(line, lead, [i["id"] for i in waiting])
    after = next_round_after(snap.get("levels") or [], round_)
    if after is not None:
        queue(redis).enqueue_in(dt.timedelta(seconds=after), page, line, lead, round_ + 1,
                                job_id=page_job_id(line, lead, round_ + 1), result_ttl=86400,
                                retry=Retry(max=3, interval=[5, 15, 30]))
    log.info("alert %s/%s: round %s paged %d number(s) about %d call(s)", line, lead, round_, len(numbers),
             len(waiting))
    return "sent"


def follow_up_page(line: str, lead: int) -> str:
    """RQ job: page the alert's latest list about calls that joined after its last page; returns
    "sent", "nothing" (no such calls, or the alert was taken) or "gone".

    The blast id comes from the first new call, so a retried job sends nothing twice.
    """
    redis = _connection()
    alerts = AlertStore(redis)
    alert = alerts.get(line, lead)
    if alert is None:
        return "gone"
    alerts.take_follow_up(line, lead)  # a call joining from now on schedules its own follow-up
    if alert["state"] != "notified":
        return "nothing"
    snap = alert["snapshot"]
    level = level_of(snap.get("levels") or [], int(alert.get("round") or 0))
    named = alerts.paged_incidents(line, lead)
    store = IncidentStore(redis)
    new = [i for i in (store.get(line, n) for n in alerts.members(line, lead) if n not in named)
           if i and i["state"] == IncidentState.MISSED.value]
    if level is None or not new:
        return "nothing"
    now = dt.datetime.now(dt.timezone.utc)
    secret, epoch = links.secret_from_env(), time.time()
    urls = {i["id"]: links.url(snap.get("base_url") or "", line, i["id"], secret, epoch)
            for i in new if i.get("recording_url")}
    body = texts.notification(new, snap.get("hotline") or line, snap.get("language") or "en",
                              ZoneInfo(snap.get("tz") or "UTC"), now, {k: v for k, v in urls.items() if v})
    bid = blast_id(line, lead, f"f{new[0]['id']}")
    numbers = list(level["numbers"])
    _send(redis, snap, bid, body, numbers, alert.get("outage_id") or "", alerts.seconds_left(line, lead))
    alerts.add_blast(line, lead, bid)
    alerts.mark_notified(numbers, line, lead, now)
    alerts.mark_paged(line, lead, [i["id"] for i in new])
    log.info("alert %s/%s: follow-up paged %d number(s) about %d late call(s)", line, lead, len(numbers), len(new))
    return "sent"


def _send(redis: Redis, snap: dict, bid: str, body: str, numbers: list[str], outage_id: str,
          keep_seconds: int) -> bool:
    """Start blast `bid` (once) and let it expire with its alert; returns True when it started."""
    sms = snap.get("sms") or {}
    blast = Blast(id=bid, body=body, sender_from=sms.get("sender_from"),
                  messaging_service_sid=sms.get("messaging_service_sid"), rate=float(sms.get("rate") or 10.0),
                  status_callback=sms.get("status_callback"), outage_id=outage_id, kind="incident",
                  total=len(numbers))
    started = start_blast(redis, blast, numbers)
    keep_blast(redis, bid, keep_seconds)
    return started


def keep_blast(redis: Redis, bid: str, seconds: int) -> None:
    """Let a paging blast (text, recipients, their states, resends) expire in `seconds`: it holds
    staff numbers and is kept no longer than the alert it was sent about. Never extends a TTL."""
    found = [keys.blast(bid), keys.blast_recipients(bid), keys.blast_resends(bid)]
    found += [keys.blast_recipient(bid, n) for n in BlastStore(redis).numbers(bid)]
    ttls = redis.pipeline(transaction=False)
    for key in found:
        ttls.ttl(key)
    pipe = redis.pipeline(transaction=False)
    for key, ttl in zip(found, ttls.execute()):
        if ttl == -1 or ttl > seconds:
            pipe.expire(key, seconds)
    pipe.execute()


def cancel_pages(redis: Redis, line: str, lead: int) -> int:
    """Delete an alert's paging rounds that have not run (see cancel_jobs); returns how many were
    waiting. Belt and braces: a round that runs anyway finds the alert acknowledged and sends nothing.
    """
    return cancel_jobs(redis, (page_job_id(line, lead, round_) for round_ in range(MAX_ROUNDS)))


def paged_numbers(redis: Redis, line: str, lead: int) -> list[str]:
    """Return every number paged about an alert (any round), each once, in paging order."""
    blasts = BlastStore(redis)
    out: list[str] = []
    for bid in AlertStore(redis).blasts(line, lead):
        if bid.endswith("-taken"):
            continue
        out.extend(n for n in blasts.numbers(bid) if n not in out)
    return out


def tell_taken(redis: Redis, line: str, lead: int, body: str, skip: str | None) -> bool:
    """Text everyone paged about the alert (but `skip`, who took it) that it is taken; once."""
    alert = AlertStore(redis).get(line, lead)
    if alert is None:
        return False
    numbers = [n for n in paged_numbers(redis, line, lead) if n != skip]
    if not numbers:
        return False
    bid = blast_id(line, lead, "taken")
    alerts = AlertStore(redis)
    alerts.add_blast(line, lead, bid)
    return _send(redis, alert["snapshot"], bid, body, numbers, alert.get("outage_id") or "",
                 alerts.seconds_left(line, lead))


def notified_of(redis: Redis, line: str, lead: int | None) -> list[dict]:
    """Return who was paged about an alert: {to, round, at, status, state, sid} per message."""
    if lead is None:
        return []
    blasts = BlastStore(redis)
    out = []
    for bid in AlertStore(redis).blasts(line, lead):
        what = bid.rsplit("-", 1)[1]
        for rec in blasts.recipients(bid):
            first = int(rec.get("first_attempt_at") or 0)
            at = dt.datetime.fromtimestamp(first / 1e6, dt.timezone.utc).replace(microsecond=0).isoformat() \
                if first else None
            out.append({"to": rec["to"], "message": what, "at": at, "state": rec.get("state"),
                        "status": rec.get("status") or None, "sid": rec.get("sid") or None})
    return out
