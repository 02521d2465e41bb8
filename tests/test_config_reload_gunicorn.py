"""A reload (kill -HUP of the gunicorn master) onto a config file with hostile bytes keeps the line
up: the new workers refuse the file, serve the last good config and say so on /healthz.

Real processes: gunicorn exactly as the Procfile's web line starts it, two workers.
"""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from tests.examples import EXAMPLES
from tests.support.web_process import WebProcess

OREBRO = (EXAMPLES / "orebro.yaml").read_text(encoding="utf-8")
LINE = "+46104550001"
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


def call(web: WebProcess, n: int) -> tuple[int, str]:
    return web.signed_post("/voice", {"CallSid": f"CA{n:032d}", "AccountSid": "AC" + "0" * 32,
                                      "To": LINE, "From": "+46701234599", "CallStatus": "ringing"})


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hup_onto_a_hostile_config_keeps_serving_the_last_good_one(tmp_path, kind):
    live = tmp_path / "orebro.yaml"
    shutil.copyfile(EXAMPLES / "orebro.yaml", live)
    env = {"HOTLINE_CONFIG": str(live), "HOTLINE_LAST_GOOD_DIR": str(tmp_path / "last-good"),
           "HOTLINE_SPOOL_DIR": str(tmp_path / "spool")}
    with WebProcess(env, tmp_path / "gunicorn.log") as web:
        before = web.health()
        assert before["config_refused"] == 0 and before["lines"] == 1
        assert "config_refused" not in before["reasons"]
        status, body = call(web, 1)
        assert status == 200
        prompt = first_prompt(body)
        assert "Välkommen till Kommunsupport" in prompt

        live.write_bytes(HOSTILE[kind])
        web.hup()
        web.wait_for(lambda: (web.health() or {}).get("config_refused"), 90,
                     "the reloaded workers never reported the refused config")

        # Both new workers are up on the kept copy: every answer reports the refusal (a count and a
        # reason code; /healthz shows no config text) and the old prompt is still played.
        for n in range(2, 12):
            health = web.health()
            assert health is not None, "the port stopped answering after the reload"
            assert health["lines"] == 1 and health["config_refused"] >= 1
            assert "config_refused" in health["reasons"] and health["status"] == "degraded"
            status, body = call(web, n)
            assert status == 200 and first_prompt(body) == prompt
        assert web.proc.poll() is None, "the gunicorn master exited"
    log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    assert "HOTLINE_CONFIG REFUSED" in log and str(live) in log
    assert "Traceback" not in log
