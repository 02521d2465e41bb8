"""Deliver one blast recipient: claim, (search if in doubt), wait for a rate slot, send, record.

Guarantees, given three quarters of the lease are longer than one HTTP attempt (its timeout):
- at most one worker talks to Twilio about a recipient at a time (the claim);
- a recipient whose earlier attempt may have reached Twilio is only sent to again after
  Twilio's message list shows no message with this body to this number since that attempt;
- 429/20429 pauses every worker on this sender and retries with backoff; 5xx answers are
  retried after that search; a request that got no answer (timeout, cut connection) is handed
  back and searched for only after `doubt_settle` seconds, since Twilio may still create it
  late; permanent errors are recorded and not retried.
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from enum import Enum

from ivr import metrics
from ivr.sms.blast import Blast, BlastStore, Claim
from ivr.sms.ratelimit import RateLimiter
from ivr.sms.settings import SmsSettings
from ivr.sms.twilio_rest import Outcome, find_sent, send_sms

log = logging.getLogger(__name__)
DOUBT_MARGIN = 60.0  # seconds of clock skew between us and Twilio tolerated when searching


class Delivered(str, Enum):
    """What deliver() did for one recipient."""

    SENT = "sent"
    FOUND = "found"          # an earlier attempt had reached Twilio: its SID was adopted
    FAILED = "failed"
    SKIPPED = "skipped"      # already finished, or another worker holds it
    RELEASED = "released"    # handed back for a later try (Twilio kept refusing for now)


def backoff(settings: SmsSettings, attempt: int) -> float:
    """Return the delay before retry number `attempt` (1-based): doubling, capped, with jitter."""
    base = min(settings.backoff * (2 ** (attempt - 1)), settings.backoff_cap)
    return base * random.uniform(0.8, 1.2)


def deliver(store: BlastStore, client, blast: Blast, number: str, limiter: RateLimiter,
            settings: SmsSettings, sleep: Callable[[float], None] = time.sleep) -> Delivered:
    """Send `blast` to `number` at most once and record the outcome; returns what happened.

    Raises only for Redis errors (the job then fails and the watchdog retries the recipient).
    """
    token = secrets.token_hex(8)
    claim = store.claim(blast.id, number, token, settings.lease)
    if claim in (Claim.BUSY, Claim.LATER, Claim.DONE, Claim.MISSING):
        return Delivered.SKIPPED
    doubt = claim is Claim.DOUBT
    for tries in range(1, settings.attempts_per_claim + 1):
        if doubt:
            found = _search(store, client, blast, number, token)
            if found is None:  # Twilio could not be asked: keep the doubt, try later
                store.release(blast.id, number, token, backoff(settings, tries))
                return Delivered.RELEASED
            if found:
                store.mark_sent(blast.id, number, found, "queued", settings.keep_days)
                metrics.sms(blast.kind, "sent")
                log.info("blast %s: adopted earlier message %s to %s", blast.id, found, number)
                return Delivered.FOUND
            doubt = False
        began = time.monotonic()
        attempt = store.begin_attempt(blast.id, number, token, settings.lease)
        if attempt < 0:
            log.warning("blast %s: lost the lease on %s before sending", blast.id, number)
            return Delivered.SKIPPED
        if attempt > settings.max_attempts:
            store.mark_failed(blast.id, number, "gave_up", f"no success after {settings.max_attempts} attempts")
            metrics.sms(blast.kind, "failed")
            return Delivered.FAILED
        try:
            result = send_sms(client, number, blast.body, blast.sender_from, blast.messaging_service_sid,
                              blast.status_callback, gate=lambda: _gate(store, blast, number, token, limiter,
                                                                        settings, sleep, began))
        except LeaseLost:
            log.warning("blast %s: lost the lease on %s while waiting for a rate slot; not sent", blast.id, number)
            return Delivered.SKIPPED
        finally:
            limiter.settle()      # the answer is back (or none came): the send counts where it may have landed
        if result.outcome is Outcome.ACCEPTED:
            store.mark_sent(blast.id, number, result.sid, result.status or "queued", settings.keep_days)
            metrics.sms(blast.kind, "sent")
            return Delivered.SENT
        if result.outcome is Outcome.PERMANENT:
            store.mark_failed(blast.id, number, result.code, result.message)
            metrics.sms(blast.kind, "failed")
            log.warning("blast %s: %s refused permanently (%s)", blast.id, number, result.code)
            return Delivered.FAILED
        metrics.sms(blast.kind, "retried")
        doubt = result.outcome is Outcome.IN_DOUBT
        store.settle(blast.id, number, token, doubt, result.code, result.message)
        if doubt and not result.answered:
            # No answer: Twilio may still be creating it, so a search now could miss it and we
            # would send again. Search only once such a late create would be in the list.
            store.release(blast.id, number, token, settings.doubt_settle)
            log.info("blast %s: no answer for %s (%s); searching in %.0fs", blast.id, number,
                     result.message, settings.doubt_settle)
            return Delivered.RELEASED
        delay = backoff(settings, tries)
        if result.code == 20429 or result.outcome is Outcome.RETRY:
            limiter.pause(delay)
        log.info("blast %s: %s to %s (code %s), retry in %.1fs", blast.id, result.outcome.value,
                 number, result.code, delay)
        sleep(delay)
    store.release(blast.id, number, token, backoff(settings, settings.attempts_per_claim))
    return Delivered.RELEASED


class LeaseLost(Exception):
    """Raised at the rate gate when another worker took the recipient over during the wait."""


def _gate(store: BlastStore, blast: Blast, number: str, token: str, limiter: RateLimiter,
          settings: SmsSettings, sleep: Callable[[float], None], began: float) -> None:
    """Wait for a rate slot, then for admission: the last check of the sender's actual recent
    sends, as close to the request as possible. After a long wait (a 429 pause: more than a
    quarter of the lease since the attempt began, when the lease was set) the lease is renewed
    before admission, so it has to cover only the HTTP request; raises LeaseLost if another
    worker took the recipient over meanwhile."""
    def renew_after_long_wait(waited: float) -> None:
        if max(waited, time.monotonic() - began) > settings.lease / 4:
            if not store.renew(blast.id, number, token, settings.lease):
                raise LeaseLost(number)

    limiter.acquire(sleep, after_wait=renew_after_long_wait)


def _search(store: BlastStore, client, blast: Blast, number: str, token: str) -> str | None:
    """Return the SID of an earlier message of this blast to `number`, '' if there is none,
    or None when Twilio could not be asked."""
    rec = store.recipient(blast.id, number)
    since = int(rec.get("first_attempt_at") or 0) / 1_000_000 - DOUBT_MARGIN
    try:
        sid = find_sent(client, number, blast.body, since, store.sid_taken)
    except Exception as exc:  # noqa: BLE001 - any failure to ask means: still in doubt
        log.warning("blast %s: cannot search Twilio for %s (%s)", blast.id, number, exc)
        return None
    if sid is None:
        store.settle(blast.id, number, token, False)
        return ""
    return sid
