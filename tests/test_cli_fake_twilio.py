"""`hotline fake-twilio`: the Twilio stand-in as a command, driven by the project's own SMS sender."""
from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from ivr.cli import main
from ivr.cli.fake_twilio import _validator
from ivr.devtools import twilio_spec
from ivr.devtools.fake_twilio import FakeTwilio
from ivr.devtools.twilio_spec import RoutesOnly
from ivr.sms.twilio_rest import Outcome, client_from_env, find_sent, send_sms
from tests.conftest import needs_twilio_spec
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
SITE = "+4534412350"
BODY = "NEDBRUD: Nexus er nede siden kl. 01:44. KMD er underrettet. Følg nødproceduren."
TWILIO_ENV = ("TWILIO_API_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


def hotline_command() -> list[str]:
    """The installed `hotline` script beside this Python, else `python -m ivr.cli`."""
    script = Path(sys.executable).with_name("hotline")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ivr.cli"]


class Lines:
    """Reads a process's output in a thread so a test can wait for a line with a timeout."""

    def __init__(self, stream):
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self._queue.put(line.rstrip("\n")) for line in stream], daemon=True).start()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        so_far = "\n".join(self.seen)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s; output so far:\n{so_far}")


@pytest.fixture
def stand_in():
    """`hotline fake-twilio` running on a free port; yields (process, its output lines)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*hotline_command(), "fake-twilio", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = Lines(proc.stdout)
    try:
        lines.wait_for(rf"^Twilio stand-in .* on http://127\.0\.0\.1:{port}$")
        yield proc, lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@needs_twilio_spec
def test_the_command_prints_each_message_the_project_sends(stand_in, monkeypatch):
    proc, lines = stand_in
    lines.wait_for(r"every request is checked against Twilio's OpenAPI description")
    for name in TWILIO_ENV:  # set exactly what the command says to export
        value = lines.wait_for(rf"^export {name}=(\S+)$").group(1)
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TWILIO_MESSAGING_SERVICE_SID", raising=False)
    client = client_from_env()
    sender = os.environ["TWILIO_FROM_NUMBER"]

    sent = send_sms(client, SITE, BODY, sender, None, "https://hotline.example.org/sms/status")

    assert sent.outcome is Outcome.ACCEPTED and sent.status == "queued"
    shown = lines.wait_for(rf"^message {sent.sid} to .*")
    assert shown.group(0) == f'message {sent.sid} to {SITE} from {sender}: "{BODY}"'
    # the list search and the fetch of the exactly-once machinery get Twilio's JSON back
    assert find_sent(client, SITE, BODY, time.time() - 3600) == sent.sid
    assert client.messages(sent.sid).fetch().body == BODY
    # a request Twilio would refuse is refused and printed
    base = os.environ["TWILIO_API_BASE_URL"]
    refused = requests.post(f"{base}/2010-04-01/Accounts/{os.environ['TWILIO_ACCOUNT_SID']}/Messages.json",
                            data={"From": sender, "Body": "x"}, timeout=10,
                            auth=(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"]))
    assert refused.status_code == 400 and refused.json()["code"] == 21604
    lines.wait_for(r"^REFUSED \(Twilio would too\): POST .*required parameter 'To'")
    assert proc.poll() is None


def test_a_port_in_use_is_one_line_and_exit_1(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["fake-twilio", "--port", str(taken.getsockname()[1])])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("hotline: cannot listen on 127.0.0.1:") and err.count("\n") == 1


def test_a_named_spec_that_is_missing_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(twilio_spec.SPEC_ENV, raising=False)
    assert main(["fake-twilio", "--spec", str(tmp_path / "nope.yaml"), "--port", "0"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_without_the_spec_it_runs_unchecked_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(twilio_spec.SPEC_ENV, raising=False)
    monkeypatch.setattr(twilio_spec, "DEFAULT_SPEC", tmp_path / "absent.yaml")
    validator, said = _validator(None)
    assert isinstance(validator, RoutesOnly) and "NOT checked" in said and "absent.yaml" in said

    with FakeTwilio(validator=validator) as fake:
        for name, value in (("TWILIO_API_BASE_URL", fake.base_url), ("TWILIO_ACCOUNT_SID", fake.account_sid),
                            ("TWILIO_AUTH_TOKEN", fake.auth_token)):
            monkeypatch.setenv(name, value)
        client = client_from_env()
        sent = send_sms(client, SITE, BODY, "+4570112230", None, None)
        assert sent.outcome is Outcome.ACCEPTED
        assert [m["body"] for m in fake.messages] == [BODY]
        assert client.messages(sent.sid).fetch().to == SITE
        nowhere = requests.get(f"{fake.base_url}/2010-04-01/Nowhere.json", timeout=10,
                               auth=(fake.account_sid, fake.auth_token))
        assert nowhere.status_code == 404 and [v.path for v in fake.violations] == ["/2010-04-01/Nowhere.json"]


def test_the_web_app_and_the_worker_do_not_import_the_stand_in():
    code = ("import sys, ivr, ivr.app, ivr.sms.jobs, ivr.outages.jobs; "
            "print(sorted(m for m in sys.modules if m.startswith('ivr.devtools') or m == 'ivr.cli.fake_twilio')); "
            "from ivr.cli import build_parser; build_parser(); "  # what `hotline worker` loads before it runs
            "print(sorted(m for m in sys.modules if m.startswith('ivr.devtools')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert out.split() == ["[]", "[]"]



def test_a_port_that_is_not_one_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["fake-twilio", "--port", "99999"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "99999 is not a port (0-65535)" in err and "Traceback" not in err


def test_a_spec_that_is_not_yaml_or_a_file_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(twilio_spec.SPEC_ENV, raising=False)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("openapi: 3.0.1\ninfo: Brøndby\n".encode("latin-1"))
    not_openapi = tmp_path / "other.yaml"
    not_openapi.write_text("a: 1\n", encoding="utf-8")
    for spec in (latin1, not_openapi, tmp_path):
        assert main(["fake-twilio", "--spec", str(spec), "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"hotline: --spec / ${twilio_spec.SPEC_ENV}: ") and str(spec) in err
        assert err.count("\n") == 1 and "Traceback" not in err
