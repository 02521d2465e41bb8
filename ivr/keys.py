"""Every Redis key name of the project, built by small functions in one place."""
from __future__ import annotations

PREFIX = "hotline"


# -- call log (ivr.calls): one incident per call, kept `call_log_days` ------------------------
def call_events(call_sid: str) -> str:
    """Return the list of a call's JSON events (the record is their fold)."""
    return f"{PREFIX}:call:{call_sid}:events"


def call_seen(call_sid: str) -> str:
    """Return the set of event ids already applied to a call (makes callbacks idempotent)."""
    return f"{PREFIX}:call:{call_sid}:seen"


def calls_index(line: str) -> str:
    """Return the sorted set of a hotline's CallSids, scored by start time (epoch seconds)."""
    return f"{PREFIX}:calls:{line}"


def calls_lines() -> str:
    """Return the set of hotline lines that have a calls index."""
    return f"{PREFIX}:calls:lines"


# -- outages (ivr.outages) --------------------------------------------------------------------
def outage_seq() -> str:
    """Return the counter that numbers outages (1, 2, 3, ...)."""
    return f"{PREFIX}:outage:seq"


def outage(outage_id: str) -> str:
    """Return the hash of one outage (state, system, times, escalation steps fired)."""
    return f"{PREFIX}:outage:{outage_id}"


def outage_open(line: str, system: str) -> str:
    """Return the string holding the id of the open outage of `system` on `line`, if any."""
    return f"{PREFIX}:outage:open:{line}:{system}"


def outages_index(line: str) -> str:
    """Return the sorted set of a hotline's outage ids, scored by declare time (epoch seconds)."""
    return f"{PREFIX}:outages:{line}"


def staff_failures(line: str, caller: str) -> str:
    """Return the counter of wrong PINs from `caller` on `line` (expires with the lockout)."""
    return f"{PREFIX}:staff:fail:{line}:{caller}"


# -- SMS blasts (ivr.sms) ---------------------------------------------------------------------
def blast(blast_id: str) -> str:
    """Return the hash of one blast: body, sender, rate, totals (created once, never edited)."""
    return f"{PREFIX}:blast:{blast_id}"


def blast_recipients(blast_id: str) -> str:
    """Return the list of a blast's recipient numbers (E.164), in sending order."""
    return f"{PREFIX}:blast:{blast_id}:to"


def blast_recipient(blast_id: str, number: str) -> str:
    """Return the hash of one recipient of a blast: state, lease, attempts, SID, last status."""
    return f"{PREFIX}:blast:{blast_id}:to:{number}"


def blast_resends(blast_id: str) -> str:
    """Return the list of a blast's resends, one JSON object each: when, by whom, how many."""
    return f"{PREFIX}:blast:{blast_id}:resends"


def blasts_active() -> str:
    """Return the set of blast ids not yet finished (a starting worker resumes them)."""
    return f"{PREFIX}:blasts:active"


def outage_blasts(outage_id: str) -> str:
    """Return the list of an outage's blast ids, in the order they started."""
    return f"{PREFIX}:outage:{outage_id}:blasts"


def sms_sid(sid: str) -> str:
    """Return the string mapping a Twilio message SID to "blast_id number"."""
    return f"{PREFIX}:sms:sid:{sid}"


def sms_early_status(sid: str) -> str:
    """Return the string holding a status callback that came before its SID was recorded."""
    return f"{PREFIX}:sms:early:{sid}"


def sms_rate(sender: str) -> str:
    """Return the rate limiter's next free send time (microseconds) for one sender."""
    return f"{PREFIX}:sms:rate:{sender}"


def sms_sent_log(sender: str) -> str:
    """Return the sorted set of one sender's sends admitted within the last rate window."""
    return f"{PREFIX}:sms:sent:{sender}"


def sms_round_trip(sender: str) -> str:
    """Return the usual round trip (microseconds) of one sender's sends, for the rate limiter."""
    return f"{PREFIX}:sms:rtt:{sender}"


def outage_calls(outage_id: str) -> str:
    """Return the set of CallSids of calls about an outage's system while it was open."""
    return f"{PREFIX}:outage:{outage_id}:calls"


def staff_session(call_sid: str) -> str:
    """Return the marker that call `call_sid` gave the right staff PIN (expires in minutes)."""
    return f"{PREFIX}:staff:ok:{call_sid}"
