"""Every Redis key name of the project, built by small functions in one place."""
from __future__ import annotations

PREFIX = "hotline"


# Every key's retention (and why) is in docs/data.md; a test keeps that table complete.

# -- call log (ivr.calls): one incident per call, kept `call_log_days` ------------------------
def call_events(call_sid: str) -> str:
    """Return the list of a call's JSON events (the record is their fold)."""
    return f"{PREFIX}:call:{call_sid}:events"


def call_seen(call_sid: str) -> str:
    """Return the set of event ids already applied to a call (makes callbacks idempotent)."""
    return f"{PREFIX}:call:{call_sid}:seen"


def call_counted(call_sid: str) -> str:
    """Return the key set once the call's end is counted in /metrics (ivr.metrics.ended)."""
    return f"{PREFIX}:call:{call_sid}:counted"


def calls_ended() -> str:
    """Return the hash of ended calls counted for /metrics: field a JSON array [line, service, route,
    outcome], value the count (ivr.metrics.ended)."""
    return f"{PREFIX}:metrics:calls-ended"


def calls_index(line: str) -> str:
    """Return the sorted set of a hotline's (or "unknown"'s) CallSids, scored by start time (epoch seconds)."""
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


def staff_attempts(line: str, caller: str) -> str:
    """Return the hash of `caller`'s PIN attempts on `line`: `fails` (wrong PINs) and `busy` (checks
    under way); it expires with the lockout (see ivr.outages.lockout)."""
    return f"{PREFIX}:staff:attempts:{line}:{caller}"


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


def sms_round_trips(sender: str) -> str:
    """Return the hash of one sender's shortest round trip (microseconds) per minute, for the rate limiter."""
    return f"{PREFIX}:sms:rtts:{sender}"


def outage_calls(outage_id: str) -> str:
    """Return the set of CallSids of calls about an outage's system while it was open."""
    return f"{PREFIX}:outage:{outage_id}:calls"


def staff_session(call_sid: str) -> str:
    """Return the marker that call `call_sid` gave the right staff PIN (expires in minutes)."""
    return f"{PREFIX}:staff:ok:{call_sid}"


# -- incidents (ivr.incidents): a number per call per hotline, alerts that page people -------
def incident_seq(line: str) -> str:
    """Return the counter that numbers a hotline's incidents (1, 2, 3, ...)."""
    return f"{PREFIX}:incident:seq:{line}"


def incident(line: str, number: int | str) -> str:
    """Return the hash of one incident (state, call, who acknowledged, when)."""
    return f"{PREFIX}:incident:{line}:{number}"


def incident_history(line: str, number: int | str) -> str:
    """Return the list of an incident's state changes (JSON: state, by, at, note)."""
    return f"{PREFIX}:incident:{line}:{number}:history"


def incident_of_call(call_sid: str) -> str:
    """Return the string holding "line number" of the incident of call `call_sid`."""
    return f"{PREFIX}:incident:call:{call_sid}"


def incidents_index(line: str) -> str:
    """Return the sorted set of a hotline's incident numbers, scored by call start (epoch seconds)."""
    return f"{PREFIX}:incidents:{line}"


def incidents_lines() -> str:
    """Return the set of hotline lines that have incidents."""
    return f"{PREFIX}:incidents:lines"


def incidents_open(line: str, state: str) -> str:
    """Return the sorted set of a hotline's incident numbers open in `state` ("missed" or
    "acknowledged"), scored by when the incident's hash expires (epoch seconds)."""
    return f"{PREFIX}:incidents:open:{line}:{state}"


def alert(line: str, lead: int | str) -> str:
    """Return the hash of an alert: who is paged about incident `lead` (and those grouped with it)."""
    return f"{PREFIX}:alert:{line}:{lead}"


def alert_incidents(line: str, lead: int | str) -> str:
    """Return the set of incident numbers an alert pages about."""
    return f"{PREFIX}:alert:{line}:{lead}:incidents"


def alert_paged(line: str, lead: int | str) -> str:
    """Return the set of an alert's incident numbers that some page has named already."""
    return f"{PREFIX}:alert:{line}:{lead}:paged"


def alert_blasts(line: str, lead: int | str) -> str:
    """Return the list of an alert's blast ids (notifications, re-notifications, "taken by")."""
    return f"{PREFIX}:alert:{line}:{lead}:blasts"


def outage_alert(line: str, outage_id: str) -> str:
    """Return the string holding the lead of the alert that gathers an outage's missed calls."""
    return f"{PREFIX}:alert:outage:{line}:{outage_id}"


def notified(number: str) -> str:
    """Return the sorted set of alerts ("line lead") a number was paged about, scored by time."""
    return f"{PREFIX}:notified:{number}"
# -- admin console (ivr.console) --------------------------------------------------------------
def console_account(user: str) -> str:
    """Return the hash of one console account: argon2 hash, role, created_at."""
    return f"{PREFIX}:console:account:{user}"


def console_accounts() -> str:
    """Return the set of console account names."""
    return f"{PREFIX}:console:accounts"


def console_signin_failures(kind: str, who: str) -> str:
    """Return the counter of failed sign-ins of an account or an address (`kind` "user" or "addr")."""
    return f"{PREFIX}:console:fail:{kind}:{who}"


def console_audit() -> str:
    """Return the list of audit entries (JSON: at, who, action, detail, address), newest first."""
    return f"{PREFIX}:console:audit"


# -- automatic test calls (ivr.probe) ---------------------------------------------------------
def probe_pending(line: str, caller: str) -> str:
    """Return the token of a probe call placed from `caller` to `line` that has not arrived yet."""
    return f"{PREFIX}:probe:pending:{line}:{caller}"


def probe_call(token: str) -> str:
    """Return the CallSid under which the probe call with `token` reached the hotline."""
    return f"{PREFIX}:probe:call:{token}"


def probe_last(line: str) -> str:
    """Return the JSON of the last probe result of `line` (ok, when, what differed)."""
    return f"{PREFIX}:probe:last:{line}"


def settle_due() -> str:
    """Sorted set of calls whose incident is due to be settled: member a JSON mark (ivr.incidents.due),
    score the epoch second it is due; written with the call's event (ivr.calls.append)."""
    return f"{PREFIX}:incidents:settle-due"
