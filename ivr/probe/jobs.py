"""The daily probe of every line: an RQ job per line, scheduled by `hotline worker` (no Flask here).

`schedule_probes` (run by each worker at start) puts one job per line with a `probe.daily_at`
on RQ's schedule, at the next such local time, with a job id per line and day, so several
workers or restarts schedule each run once. `probe_line` places the call (ivr.probe.place),
keeps the result (ivr.probe.results), texts the line's `probe.admins` when it failed (one SMS
blast per line and day, through ivr.sms: exactly once even when the job is retried) and
schedules the next day's run.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

from rq import Queue

from ivr import keys
from ivr.calls.spool import Spool, default_dir
from ivr.calls.store import CallStore, connect_redis
from ivr.config import ConfigErrors, load_config
from ivr.hotline import Hotline
from ivr.probe.model import ProbePolicy
from ivr.probe.place import ProbeResult, run_probe
from ivr.probe.results import KEEP_SECONDS, save_result
from ivr.sms.blast import Blast
from ivr.sms.jobs import rq_connection, start_blast

log = logging.getLogger(__name__)

QUEUE = "default"
JOB_TIMEOUT = 900          # one probe call waits at most a few minutes
SMS_TEXT_LIMIT = 300


def next_run(policy: ProbePolicy, tz: dt.tzinfo, now: dt.datetime) -> dt.datetime | None:
    """Return the next local `policy.daily_at` strictly after `now` (aware), None without a schedule."""
    if policy.daily_at is None:
        return None
    local = now.astimezone(tz)
    for days in (0, 1, 2):
        day = local.date() + dt.timedelta(days=days)
        at = dt.datetime.combine(day, policy.daily_at, tzinfo=tz)
        if at > now:
            return at
    return None


def job_id(line: str, at: dt.datetime) -> str:
    """Return the RQ job id of the probe of `line` at `at` (one per line and local day)."""
    return f"probe-{line.lstrip('+')}-{at:%Y%m%d}"


def schedule_probe(redis, hotline: Hotline, now: dt.datetime) -> dt.datetime | None:
    """Put the next daily probe of `hotline` on RQ's schedule; returns when, None when not probed."""
    at = next_run(hotline.probe, hotline.tz, now) if hotline.probe else None
    if at is None:
        return None
    Queue(QUEUE, connection=rq_connection(redis)).enqueue_at(
        at, probe_line, hotline.line, job_id=job_id(hotline.line, at), job_timeout=JOB_TIMEOUT,
        result_ttl=7 * 86400, failure_ttl=7 * 86400)
    return at


def schedule_probes(redis, now: dt.datetime | None = None) -> int:
    """Schedule the next probe of every line in HOTLINE_CONFIG; returns how many were scheduled.

    A refused config is logged and schedules nothing (the app keeps its last good one)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    try:
        config = load_config(os.environ.get("HOTLINE_CONFIG") or None)
    except ConfigErrors as exc:
        log.error("probes not scheduled: HOTLINE_CONFIG refused (%d error(s))", len(exc.errors))
        return 0
    count = 0
    for hotline in config.lines():
        at = schedule_probe(redis, hotline, now)
        if at is not None:
            log.info("probe of %s scheduled at %s", hotline.line, at.isoformat())
            count += 1
    return count


def probe_line(line: str) -> dict:
    """RQ job: probe `line` now, keep the result, text its admins when it failed, schedule the next run.

    Returns the result as a dict ({} when the line or its probe left the config)."""
    redis = connect_redis(os.environ.get("REDIS_URL") or "redis://localhost:6379/0")
    path = os.environ.get("HOTLINE_CONFIG") or None
    hotline = load_config(path).find(line)
    if hotline is None or hotline.probe is None:
        log.info("probe of %s skipped: no such line with a probe: section any more", line)
        return {}
    now = dt.datetime.now(dt.timezone.utc)
    base = os.environ.get("PUBLIC_BASE_URL")
    if not base:
        result = ProbeResult(line, False, now.isoformat(), list(hotline.probe.keys),
                             error="PUBLIC_BASE_URL is not set for the worker: the probe cannot give Twilio the "
                                   "hotline's webhook")
    else:
        from ivr.sms.twilio_rest import client_from_env

        store = CallStore(redis, Spool(default_dir(path, os.environ.get("REDIS_URL"))))
        result = run_probe(hotline, hotline.probe.keys, client_from_env(), redis, store, base)
    save_result(redis, line, result.to_dict())
    log.info(result.summary())
    if not result.ok:
        alert_admins(redis, hotline, result, now)
    schedule_probe(redis, hotline, now + dt.timedelta(minutes=1))
    return result.to_dict()


def alert_text(hotline: Hotline, result: ProbeResult) -> str:
    """Return the SMS to the admins about a failed probe (at most SMS_TEXT_LIMIT characters)."""
    text = f"TEST CALL FAILED {hotline.name} ({hotline.line}): " + "; ".join(
        result.differences or [result.error or "failed"])
    return text if len(text) <= SMS_TEXT_LIMIT else text[:SMS_TEXT_LIMIT - 1] + "…"


def alert_admins(redis, hotline: Hotline, result: ProbeResult, now: dt.datetime) -> bool:
    """Text `probe.admins` through an SMS blast (one per line and local day); returns True when
    it was started now, False when there is nobody to text or it was sent before."""
    admins = list(hotline.probe.admins)
    if not admins:
        log.warning("probe of %s failed and the line has no probe.admins to text", hotline.line)
        return False
    outages = hotline.outages
    blast_id = f"probe-{hotline.line.lstrip('+')}-{now.astimezone(hotline.tz):%Y%m%d}"
    blast = Blast(
        id=blast_id, body=alert_text(hotline, result),
        sender_from=(outages.sender_from if outages else None) or os.environ.get("TWILIO_FROM_NUMBER") or None,
        messaging_service_sid=(outages.messaging_service_sid if outages else None)
        or os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        rate=1.0, status_callback=None, outage_id="", kind="probe", total=len(admins))
    started = start_blast(redis, blast, admins)
    with redis.pipeline() as pipe:  # no outage restores these: they expire on their own
        for key in [keys.blast(blast_id), keys.blast_recipients(blast_id)] + \
                   [keys.blast_recipient(blast_id, n) for n in admins]:
            pipe.expire(key, KEEP_SECONDS)
        pipe.execute()
    return started
