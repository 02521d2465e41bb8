"""Plays a call created through the fake Calls resource against the app's webhooks, as Twilio would.

The called number is taken to answer with the create request's `Url`: the driver posts there,
signed with the account's auth token (X-Twilio-Signature), with CallSid, AccountSid, From, To,
CallStatus, Direction ("inbound": what the hotline's number sees) and ApiVersion, then follows
the TwiML it gets back:

- <Say>, <Play>, <Pause>, <Record>: noted in the call's log (no waiting);
- <Gather>: takes the next entry of SendDigits and posts it to the action as Digits (a trailing
  finishOnKey, e.g. '#', is taken off and posted as FinishedOnKey; at most numDigits digits);
  with no entry left it posts an empty Digits when actionOnEmptyResult is true, else goes on;
- <Dial>: nobody answers: posts the action with DialCallStatus no-answer, else goes on;
- <Redirect>: posts to its URL; <Hangup>, <Reject> or the end of the document end the call.

SendDigits are split into entries at each run of pauses ('w' half a second, 'W' a second):
"W1WW153#" is two entries, "1" for the first prompt and "153#" for the second. When the call
ends it is `completed` (an error answer ends it too, as Twilio's "application error" does; the
error is in the log) and the StatusCallback, if any, gets a signed post.
"""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from twilio.request_validator import RequestValidator

MAX_WEBHOOKS = 60  # a call that takes more webhooks than this is cut (a loop in the app)


def digit_entries(send_digits: str | None) -> list[str]:
    """Return the key entries of SendDigits, split at runs of 'w'/'W' pauses."""
    return [part for part in re.split(r"[wW]+", send_digits or "") if part]


@dataclass
class DrivenCall:
    """What the driver did on one call: each webhook posted, what was said, errors."""

    sid: str
    posts: list[dict] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class CallDriver:
    """Drives calls for a FakeTwilio (`update(sid, **fields)` changes the Call resource)."""

    def __init__(self, account_sid: str, auth_token: str, update, timeout: float = 15.0):
        self.account_sid = account_sid
        self.validator = RequestValidator(auth_token)
        self.update = update
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # loopback apps: no proxy detour

    def drive(self, resource: dict, params: dict) -> DrivenCall:
        """Play the call described by the create request `params`; returns what happened."""
        sid = resource["sid"]
        call = DrivenCall(sid)
        started = time.monotonic()
        self.update(sid, status="in-progress", start_time=resource["date_created"])
        base = {"CallSid": sid, "AccountSid": self.account_sid, "From": params.get("From", ""),
                "To": params.get("To", ""), "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01"}
        entries = digit_entries(params.get("SendDigits"))
        url, method, extra = params.get("Url"), (params.get("Method") or "POST").upper(), {}
        try:
            while url is not None and len(call.posts) < MAX_WEBHOOKS:
                twiml = self._post(call, url, method, {**base, **extra})
                if twiml is None:
                    break
                url, method, extra = self._follow(call, url, twiml, entries)
            if len(call.posts) >= MAX_WEBHOOKS:
                call.errors.append(f"cut after {MAX_WEBHOOKS} webhooks")
        finally:
            duration = str(int(time.monotonic() - started))
            self.update(sid, status="completed", duration=duration)
            callback = params.get("StatusCallback")
            if callback:
                self._post(call, callback, (params.get("StatusCallbackMethod") or "POST").upper(),
                           {**base, "CallStatus": "completed", "CallDuration": duration}, twiml=False)
        return call

    def _post(self, call: DrivenCall, url: str, method: str, form: dict, twiml: bool = True) -> ET.Element | None:
        """Post a signed webhook; returns the parsed <Response>, or None after an error (logged)."""
        signed = form if method == "POST" else {}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, signed)}
        call.posts.append({"url": url, "method": method, "form": dict(form)})
        try:
            if method == "POST":
                reply = self.session.post(url, data=form, headers=headers, timeout=self.timeout)
            else:
                reply = self.session.get(url, params=form, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            call.errors.append(f"{method} {url}: {type(exc).__name__}")
            return None
        if reply.status_code != 200:
            call.errors.append(f"{method} {url}: HTTP {reply.status_code}")
            return None
        if not twiml:
            return None
        try:
            root = ET.fromstring(reply.content)
        except ET.ParseError as exc:
            call.errors.append(f"{method} {url}: not TwiML ({exc})")
            return None
        if root.tag != "Response":
            call.errors.append(f"{method} {url}: TwiML root is <{root.tag}>")
            return None
        return root

    def _follow(self, call: DrivenCall, url: str, root: ET.Element, entries: list[str]):
        """Run the verbs of one TwiML document; returns (next URL or None, method, extra form)."""
        for verb in root:
            tag = verb.tag
            if tag in ("Say", "Play"):
                call.said.append((verb.text or "").strip())
            elif tag == "Gather":
                call.said.extend((child.text or "").strip() for child in verb if child.tag == "Say")
                action = urljoin(url, verb.get("action") or url)
                method = (verb.get("method") or "POST").upper()
                if entries:
                    return action, method, _gathered(verb, entries.pop(0))
                if (verb.get("actionOnEmptyResult") or "").lower() == "true":
                    return action, method, {"Digits": ""}
            elif tag == "Dial":
                if verb.get("action"):
                    return (urljoin(url, verb.get("action")), (verb.get("method") or "POST").upper(),
                            {"DialCallStatus": "no-answer", "DialCallDuration": "0"})
            elif tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), (verb.get("method") or "POST").upper(), {}
            elif tag in ("Hangup", "Reject"):
                return None, "POST", {}
        return None, "POST", {}


def _gathered(gather: ET.Element, entry: str) -> dict:
    """Return the Gather action's Digits (and FinishedOnKey) for one key entry."""
    finish = gather.get("finishOnKey", "#")
    limit = int(gather.get("numDigits") or 0) or None
    if finish and entry.endswith(finish):
        return {"Digits": entry[:-1][:limit], "FinishedOnKey": finish}
    return {"Digits": entry[:limit], "FinishedOnKey": ""}
