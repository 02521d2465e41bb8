"""A reload (kill -HUP of the gunicorn master) onto a config file with hostile bytes keeps the line
up: the new workers refuse the file, serve the last good config and say so on /healthz.

Real processes: gunicorn exactly as the Procfile's web line starts it, two workers.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from ivr.callsim import sign
from tests.examples import EXAMPLES
from tests.support.gunicorn import Gunicorn

OREBRO = (EXAMPLES / "orebro.yaml").read_text(encoding="utf-8")
LINE = "+46104550001"
PUBLIC_BASE_URL = "https://hotline.example.test"
AUTH_TOKEN = "web-process-test-token"
BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "hotline: *a8\n"

HOSTILE = {
    "latin1": OREBRO.encode("latin-1", errors="replace"),
    "alias_bomb": BOMB.encode(),
    "deep_nesting": ("hotline: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
}


def first_prompt(body: str) -> str:
    """Return the text of the first <Say> inside the <Gather> of a TwiML answer."""
    gather = ET.fromstring(body).find("Gather")
    assert gather is not None, body
    return " ".join(say.text or "" for say in gather.iter("Say"))


def health(web: Gunicorn) -> dict | None:
    """Return /healthz as a dict, or None when the port does not answer."""
    try:
        with urllib.request.urlopen(web.url + "/healthz", timeout=5) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError):
        return None


def call(web: Gunicorn, n: int) -> tuple[int, str]:
    """POST a call's first webhook, signed as Twilio would for PUBLIC_BASE_URL; returns (status, body)."""
    params = {"CallSid": f"CA{n:032d}", "AccountSid": "AC" + "0" * 32, "To": LINE, "From": "+46701234599",
              "CallStatus": "ringing"}
    req = urllib.request.Request(web.url + "/voice", data=urllib.parse.urlencode(params).encode(), method="POST",
                                 headers={"X-Twilio-Signature": sign(AUTH_TOKEN, PUBLIC_BASE_URL + "/voice", params),
                                          "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_for(web: Gunicorn, condition, seconds: float, what: str) -> None:
    """Poll `condition` until true; raise AssertionError with the log tail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if web.proc.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what}; gunicorn log:\n{web.log(4000)}")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hup_onto_a_hostile_config_keeps_serving_the_last_good_one(tmp_path, kind):
    live = tmp_path / "orebro.yaml"
    shutil.copyfile(EXAMPLES / "orebro.yaml", live)
    env = {**os.environ, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
           "HOTLINE_LAST_GOOD_DIR": str(tmp_path / "last-good"), "HOTLINE_SPOOL_DIR": str(tmp_path / "spool")}
    env.pop("REDIS_URL", None)
    with Gunicorn(env, tmp_path / "gunicorn.log", config=live) as web:
        before = health(web)
        assert before["config_refused"] == 0 and before["lines"] == 1
        assert "config_refused" not in before["reasons"]
        status, body = call(web, 1)
        assert status == 200
        prompt = first_prompt(body)
        assert "Välkommen till Kommunsupport" in prompt

        live.write_bytes(HOSTILE[kind])
        web.hup()
        wait_for(web, lambda: (health(web) or {}).get("config_refused"), 90,
                 "the reloaded workers never reported the refused config")

        # Both new workers are up on the kept copy: every answer reports the refusal (a count and a
        # reason code; /healthz shows no config text) and the old prompt is still played.
        for n in range(2, 12):
            shown = health(web)
            assert shown is not None, "the port stopped answering after the reload"
            assert shown["lines"] == 1 and shown["config_refused"] >= 1
            assert "config_refused" in shown["reasons"] and shown["status"] == "degraded"
            status, body = call(web, n)
            assert status == 200 and first_prompt(body) == prompt
        assert web.proc.poll() is None, "the gunicorn master exited"
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "HOTLINE_CONFIG REFUSED" in log and str(live) in log
    assert "Traceback" not in log
