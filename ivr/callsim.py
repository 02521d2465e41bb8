"""Play a phone call against the voice webhooks the way Twilio does.

Used by `hotline call` and by the tests. It posts signed form data (CallSid, From, To, Digits,
DialCallStatus, ...) to the URLs our TwiML names, and reads each answer back into a `Turn`.
No Flask here: `post` is any function (url, params, headers) -> (status, body), e.g. a Flask
test client (in-process) or urllib against a running server.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

Post = Callable[[str, dict, dict], tuple[int, str]]
RING_OUTCOMES = ("accept", "decline", "no-answer", "busy", "failed", "voicemail", "canceled")


class CallError(Exception):
    """The app answered something Twilio would refuse (not 200, not TwiML, no action to follow)."""


@dataclass
class Turn:
    """One TwiML answer: what the caller hears, and where the call waits next.

    `kind` is "gather", "dial", "record", "redirect-loop" or "hangup" (the call is over).
    """

    url: str
    status: int
    body: str
    root: ET.Element
    says: list[str] = field(default_factory=list)
    kind: str = "hangup"
    verb: ET.Element | None = None

    @property
    def action(self) -> str | None:
        """Return the action URL of the waiting verb (Gather, Dial, Record), if any."""
        return self.verb.get("action") if self.verb is not None else None

    @property
    def numbers(self) -> list[tuple[str, str | None]]:
        """Return (number, screening URL or None) for each <Number> of a waiting <Dial>."""
        if self.kind != "dial" or self.verb is None:
            return []
        found = [(n.text or "", n.get("url")) for n in self.verb.findall("Number")]
        return found or [((self.verb.text or "").strip(), None)]


def new_sid(prefix: str = "CA") -> str:
    """Return a random Twilio-like SID (CA + 32 hex digits)."""
    return prefix + secrets.token_hex(16)


def sign(token: str, url: str, params: dict) -> str:
    """Return the X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return RequestValidator(token).compute_signature(url, params)


def parse(url: str, status: int, body: str) -> Turn:
    """Return the Turn for a TwiML answer; raises CallError when it is not 200 TwiML."""
    if status != 200:
        raise CallError(f"{url} answered HTTP {status}: {body[:200]}")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CallError(f"{url} answered something that is not XML: {exc}") from None
    if root.tag != "Response":
        raise CallError(f"{url} answered <{root.tag}>, not <Response>")
    turn = Turn(url, status, body, root)
    for verb in root:
        if verb.tag == "Say":
            turn.says.append(verb.text or "")
        elif verb.tag == "Gather":
            turn.says.extend(s.text or "" for s in verb.findall("Say"))
            turn.kind, turn.verb = "gather", verb
            return turn
        elif verb.tag in ("Dial", "Record"):
            turn.kind, turn.verb = verb.tag.lower(), verb
            return turn
        elif verb.tag == "Redirect":
            turn.kind, turn.verb = "redirect", verb
            return turn
        elif verb.tag == "Hangup":
            return turn
    return turn


class CallSim:
    """One simulated call from `caller` to hotline number `to`; every answer is kept in `turns`."""

    def __init__(self, post: Post, to: str, caller: str, auth_token: str = "", sid: str | None = None,
                 base_url: str = "http://localhost"):
        self.post, self.to, self.caller = post, to, caller
        self.token, self.base = auth_token, base_url.rstrip("/")
        self.sid = sid or new_sid()
        self.turns: list[Turn] = []
        self.screens: list[Turn] = []  # the callee legs' whisper answers

    @property
    def turn(self) -> Turn:
        """Return the latest answer; raises IndexError before start()."""
        return self.turns[-1]

    def send(self, url: str, params: dict) -> Turn:
        """POST signed `params` to `url` (relative to the base URL) and return the parsed answer."""
        if not url.startswith("http"):
            url = self.base + url
        headers = {"X-Twilio-Signature": sign(self.token, url, params)} if self.token else {}
        status, body = self.post(url, params, headers)
        return parse(url, status, body)

    def _call_params(self, **extra) -> dict:
        return {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.caller, "To": self.to,
                "Called": self.to, "Caller": self.caller, "Direction": "inbound", "CallStatus": "in-progress",
                **{k: v for k, v in extra.items() if v is not None}}

    def _main(self, url: str, params: dict) -> Turn:
        turn = self.send(url, params)
        hops = 0
        while turn.kind == "redirect":
            hops += 1
            if hops > 10:
                turn.kind = "redirect-loop"
                break
            heard = turn.says
            turn = self.send(turn.verb.text or "", self._call_params())
            turn.says = heard + turn.says   # the caller heard what came before the <Redirect> too
        self.turns.append(turn)
        return turn

    def start(self) -> Turn:
        """Ring the hotline: POST /voice."""
        return self._main("/voice", self._call_params(CallStatus="ringing"))

    def press(self, keys: str) -> Turn:
        """Answer the waiting <Gather> with `keys` ("2", "153#", "#"; "" is silence)."""
        verb = self._expect("gather")
        finish = verb.get("finishOnKey", "#")
        digits, finished = keys, ""
        if finish and keys.endswith(finish):
            digits, finished = keys[: -len(finish)], finish
        return self._main(verb.get("action"), self._call_params(Digits=digits if keys else None,
                                                                FinishedOnKey=finished if keys else None))

    def silence(self) -> Turn:
        """Let the waiting <Gather> time out (Twilio posts without Digits)."""
        return self.press("")

    def ring(self, outcome: str, key: str = "1", duration: int = 42) -> Turn:
        """End the waiting <Dial>: `outcome` is one of RING_OUTCOMES.

        "accept": the callee answers (and, if screened, hears the whisper and presses `key`).
        "decline": a screened callee presses something else; "voicemail": a voicemail box answers
        (no key). Twilio then reports DialCallStatus "completed" for all three.
        """
        verb = self._expect("dial")
        if outcome not in RING_OUTCOMES:
            raise ValueError(f"ring outcome must be one of {RING_OUTCOMES}")
        status = outcome
        if outcome in ("accept", "decline", "voicemail"):
            status = "completed"
            number, screen = self.turn.numbers[0]
            if screen:
                pressed = key if outcome == "accept" else ("2" if outcome == "decline" else "")
                self.screen_leg(screen, number, pressed)
        params = self._call_params(DialCallStatus=status, DialCallSid=new_sid(),
                                   DialCallDuration=str(duration) if status == "completed" else None)
        return self._main(verb.get("action"), params)

    def screen_leg(self, url: str, number: str, key: str) -> tuple[Turn, Turn | None]:
        """Play the callee's leg of a screened <Number>: the whisper, then `key` ("" = none).

        Returns (whisper turn, answer turn). The answer ends in <Hangup> unless accepted.
        """
        leg = {"CallSid": new_sid(), "ParentCallSid": self.sid, "From": self.to, "To": number,
               "Called": number, "Direction": "outbound-dial", "CallStatus": "in-progress"}
        whisper = self.send(url, leg)
        self.screens.append(whisper)
        if whisper.kind != "gather":
            return whisper, None
        answer = self.send(whisper.action, {**leg, **({"Digits": key} if key else {})})
        self.screens.append(answer)
        return whisper, answer

    def leave_message(self, recording_url: str = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
                      duration: int = 12) -> Turn:
        """Finish the waiting <Record> with a recording ("" = hang up without one)."""
        verb = self._expect("record")
        params = self._call_params(RecordingUrl=recording_url or None,
                                   RecordingDuration=str(duration) if recording_url else None,
                                   RecordingSid="RE" + "1" * 32 if recording_url else None)
        turn = self._main(verb.get("action"), params)
        callback = verb.get("recordingStatusCallback")
        if callback and recording_url:
            self.send(callback, {**params, "RecordingStatus": "completed"})
        return turn

    def hang_up(self, status: str = "completed", duration: int = 90) -> Turn:
        """Send the call status callback that Twilio sends when the call ends."""
        return self.send("/voice/status", self._call_params(CallStatus=status, CallDuration=str(duration)))

    def _expect(self, kind: str) -> ET.Element:
        if not self.turns or self.turn.kind != kind or self.turn.verb is None:
            where = self.turn.kind if self.turns else "before start()"
            raise CallError(f"the call is not waiting at a <{kind.capitalize()}> (it is at {where})")
        return self.turn.verb


def path_of(url: str) -> str:
    """Return the path and query of an absolute URL (what a test client is given)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
