"""`hotline call`: play a phone call in the terminal against the real webhooks.

In-process by default (the app runs inside this command, with its own temporary call log unless
--log), or against a running server with --url. You hear what is said, type keys, and decide for
each person who is rung: answer, reject or let it ring.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from ivr import numbers
from ivr.calls.timeline import step_label
from ivr.callsim import CallError, CallSim, Turn, path_of
from ivr.calls.store import connect_redis
from ivr.cli import redis_env
from ivr.cli.common import CliError, add_config_arg, fail, load, moment, pick_line, quiet_app
from ivr.cli.serve import DEV_TOKEN, command_name

LOCAL_BASE = "http://hotline.local"
HANG_UP = "q"  # hangs up at every prompt; "h" is also taken while it rings
DIAL_CHOICES = {"a": "accept", "r": "reject", "l": "no-answer", "b": "busy", "v": "voicemail",
                HANG_UP: "hangup", "h": "hangup"}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("call", help="play a call in the terminal (keys, who is rung, answer/reject)")
    add_config_arg(parser)
    parser.add_argument("--line", help="the hotline number to ring (needed when the config has several)")
    parser.add_argument("--from", dest="caller", default="+4534412350",
                        help="the caller's number (E.164, or as dialled in the line's country); other text, "
                             "e.g. anonymous, is sent as typed to rehearse a hidden caller")
    parser.add_argument("--at", help="ISO time of the call, in-process only (default: now)")
    parser.add_argument("--url", help="a running server (e.g. http://127.0.0.1:5000) instead of in-process")
    parser.add_argument("--token", help="auth token to sign with (default $TWILIO_AUTH_TOKEN or the dev token)")
    parser.add_argument("--log", action="store_true", help="in-process: write the record to $REDIS_URL too")
    parser.set_defaults(run=run)


def ask(prompt: str, valid=None) -> str | None:
    """Return a line typed by the user (stripped), or None at end of input or Ctrl-C (both hang up,
    as q does at that prompt).

    With `valid` (a test on the typed text), anything else is refused and asked for again.
    """
    while True:
        try:
            typed = input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return None
        if valid is None or valid(typed):
            return typed
        print("  (not a choice here; try again)")


def _keys_ok(typed: str) -> bool:
    """Return True for what a phone keypad can send (digits, * and #), nothing, or q."""
    return typed.lower() == HANG_UP or all(c in "0123456789*#" for c in typed)


def http_post(url: str, params: dict, headers: dict) -> tuple[int, str]:
    """POST form data with urllib; returns (status, body) also for HTTP errors.

    Raises urllib.error.URLError (or another OSError) when no HTTP answer comes.
    """
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(url, data=data, headers={**headers, "Content-Type":
                                                          "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def server_url(text: str) -> str:
    """Return --url without a trailing slash; raises CliError (exit 2) when it is not http(s)://HOST."""
    parts = urllib.parse.urlsplit(text)
    try:
        parts.port  # raises ValueError for a port that is not 0-65535
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--url {text!r} is not an http(s) URL like http://127.0.0.1:5000")
    return text.rstrip("/")


def token_source(option: str | None) -> tuple[str, str]:
    """Return (token, where it came from) for signing: --token, else $TWILIO_AUTH_TOKEN, else DEV_TOKEN."""
    if option:
        return option, "--token"
    if os.environ.get("TWILIO_AUTH_TOKEN"):
        return os.environ["TWILIO_AUTH_TOKEN"], "$TWILIO_AUTH_TOKEN"
    return DEV_TOKEN, "the development token"


def remote_post(base: str, source: str):
    """Return a `post` for CallSim against the server at `base` that raises CliError (exit 1)
    when nothing answers there or the server refuses the signature; `source` names the token used.
    """
    port = urllib.parse.urlsplit(base).port

    def post(url: str, params: dict, headers: dict) -> tuple[int, str]:
        try:
            status, body = http_post(url, params, headers)
        except OSError as exc:
            reason = getattr(exc, "reason", exc)
            start = f"`{command_name()} serve" + (f" --port {port}`" if port else "`")
            raise CliError(f"nothing answers at {base} ({reason}); start a server there with {start} "
                           "or leave out --url to call in-process", 1) from None
        if status == 403:
            raise CliError(
                f"{base} refused the signature (HTTP 403): this call signed with {source}, and the server "
                "checks with its own $TWILIO_AUTH_TOKEN, else the development token (`hotline serve`), "
                "against its public URL (--public-url or $PUBLIC_BASE_URL, else the URL called); give both "
                "sides the same token (--token here, or the same TWILIO_AUTH_TOKEN)", 1)
        return status, body

    return post


def run(args: argparse.Namespace) -> int:
    try:
        config = load(args)
        hotline = pick_line(config, args.line)
        if args.url and args.at:
            raise CliError("--at only works in-process: a running server uses its own clock "
                           "(start it with `hotline serve --at ISO` to rehearse a moment)")
        at = moment(args.at, hotline)
        base = server_url(args.url) if args.url else None
        redis_url = redis_env.required_url() if args.log and not args.url else None
        if redis_url:  # --log without a call log to write to is refused before the call
            redis_env.reachable(redis_url, connect_redis)
    except CliError as exc:
        return fail(exc)
    names = {c.number: c.name for c in hotline.contacts.values()}
    store = None
    if base:
        token, source = token_source(args.token)
        sim = CallSim(remote_post(base, source), hotline.line, numbers.normalise(args.caller, (hotline.country,)),
                      token, base_url=base)
    else:
        from ivr.app import state_of

        started = time.monotonic()
        token = "in-process-" + os.urandom(8).hex()
        app = quiet_app(config, redis_url=redis_url, auth_token=token, public_base_url=LOCAL_BASE,
                        now=lambda: at + dt.timedelta(seconds=time.monotonic() - started),
                        spool_dir=None if args.log else tempfile.mkdtemp(prefix="hotline-call-"))
        # The per-webhook log lines are for a server's log, not for the person playing the call.
        app.extensions["hotline.weblog"].enabled = False
        client = app.test_client()
        store = state_of(app).store

        def local_post(url: str, params: dict, headers: dict) -> tuple[int, str]:
            resp = client.post(path_of(url), data=params, headers=headers)
            return resp.status_code, resp.get_data(as_text=True)

        sim = CallSim(local_post, hotline.line, numbers.normalise(args.caller, (hotline.country,)), token, base_url=LOCAL_BASE)
    when = "on the server's clock" if args.url else f"at {at.isoformat(timespec='minutes')}"
    print(f"Calling {hotline.line} ({hotline.name}) from {sim.caller} {when}")
    if not numbers.is_valid_e164(sim.caller):
        print(f"  ({sim.caller} is not a phone number: it is sent as typed, as Twilio sends a hidden caller)")
    try:
        try:
            play(sim, names)
        except KeyboardInterrupt:
            print("\n(hung up)")
        sim.hang_up()
    except CallError as exc:
        print(f"hotline: the webhook answered something Twilio would refuse: {exc}", file=sys.stderr)
        return 1
    except CliError as exc:
        return fail(exc)
    if store is not None:
        store.settle()   # the incident is numbered from Redis: the call's events must be written first
        record = store.record(sim.sid) or {}
        summarise(record, names)
        _incident(hotline, record, store.redis, sim)
    else:
        print(f"\nCall {sim.sid} logged by the server: its banner's `calls` line lists it "
              f"(add --show {sim.sid} for the timeline).")
        _incident_at_server(hotline, sim)
    return 0


def _incident(hotline, record: dict, redis, sim: CallSim) -> None:
    """Print the call's incident: numbered in the real call log (--log), else who it would page."""
    from ivr.cli import call_incident

    try:
        line = (call_incident.settle_here(redis, hotline, record, sim.sid, sim.caller) if redis is not None
                else call_incident.private(hotline, record))
    except Exception as exc:  # noqa: BLE001 - the call is over; say why there is no number
        line = f"  incident  not numbered ({type(exc).__name__}: {exc})"
    if line:
        print(line)


def _incident_at_server(hotline, sim: CallSim) -> None:
    """With REDIS_URL set, wait briefly for the server's worker to number the call's incident."""
    if not os.environ.get("REDIS_URL"):
        return
    import redis as redis_lib

    from ivr.cli import call_incident

    try:
        client = redis_lib.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        print(call_incident.wait_for_server(client, hotline, sim.sid))
    except redis_lib.RedisError as exc:
        print(f"  incident  not known (Redis: {exc})")


def show(turn: Turn) -> None:
    for words in turn.says:
        print(f'  says: "{words}"')


def play(sim: CallSim, names: dict[str, str]) -> None:
    """Drive the call until it hangs up or the user stops; prints every step."""
    turn = sim.start()
    while True:
        show(turn)
        if turn.kind == "gather":
            finish = turn.verb.get("finishOnKey") or ""
            hint = " (end with #)" if finish == "#" else ""
            keys = ask(f"keys{hint}, Enter = say nothing, {HANG_UP} = hang up > ", _keys_ok)
            if keys is None or keys.lower() == HANG_UP:
                print("(you hung up)")
                return
            turn = sim.press(keys)
        elif turn.kind == "dial":
            numbers = turn.numbers
            screened = any(url for _, url in numbers)
            who = ", ".join(f"{names.get(n, n)} {n}" if n in names else n for n, _ in numbers)
            print(f"  dialling: {who} (rings {turn.verb.get('timeout', '30')} s"
                  f"{', screened: must press 1' if screened else ''})")
            choice = ask(f"  [a]nswer, [r]eject, [l]et ring, [b]usy, [v]oicemail picks up, {HANG_UP} = hang up > ",
                         lambda typed: typed[:1].lower() in DIAL_CHOICES)
            outcome = DIAL_CHOICES[(choice or HANG_UP)[:1].lower()]
            if outcome == "hangup":
                sim.ring("canceled")
                print("(you hung up while it rang)")
                return
            if outcome == "reject":
                outcome = "decline" if screened else "busy"
            turn = sim.ring(outcome)
            for screen in sim.screens[-2:] if screened else []:
                for words in screen.says:
                    print(f'    callee hears: "{words}"')
            if outcome == "accept":
                print("  (connected: you talk, then hang up)")
        elif turn.kind == "record":
            choice = ask(f"  leave a message? [y]es / [n]o, {HANG_UP} = hang up > ",
                         lambda typed: typed[:1].lower() in ("y", "n", HANG_UP))
            if choice is None or choice[:1].lower() == HANG_UP:
                sim.leave_message("")  # hanging up during <Record>: Twilio posts the action without a recording
                print("(you hung up)")
                return
            turn = sim.leave_message("" if (choice or "n")[:1].lower() != "y" else
                                     "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE-simulated")
        else:
            print("(the call ended)" if turn.kind == "hangup" else f"(stopped: {turn.kind})")
            return


def summarise(record: dict, names: dict[str, str]) -> None:
    """Print the call's log record briefly (`hotline calls --show SID` shows it in full).

    Steps count from 1 as `hotline route` prints them; "then" is the exhausted dial."""
    print("\nCall log record:")
    print(f"  call      {record.get('call_sid')}  keys {','.join(record.get('keys') or []) or '-'}")
    decision = record.get("decision") or {}
    if decision:
        print(f"  route     {record.get('service')} -> {decision.get('route')}: {decision.get('target_name')}")
        print(f"  reason    {decision.get('reason')} (config {decision.get('config_version')})")
    steps = len(decision["steps"]) if isinstance(decision.get("steps"), list) else None
    for attempt in record.get("attempts") or []:
        who = ", ".join(f"{names.get(n, n)}" for n in attempt.get("numbers") or [])
        took = f", taken by {attempt['accepted_by']}" if attempt.get("accepted_by") else ""
        print(f"  {step_label(attempt.get('step'), steps):9} {who}: {attempt.get('status')}{took}")
    if record.get("recording_url"):
        print(f"  recording {record['recording_url']}")
    print(f"  outcome   {record.get('outcome')}")
