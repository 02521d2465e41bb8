"""`hotline call` in the terminal (in-process and against `hotline serve`) and `hotline serve` itself."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ivr.cli import main
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def play(monkeypatch, capsys, typed: str, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    code = main(["call", *argv])
    return code, capsys.readouterr().out


def test_in_process_call_with_screening_and_escalation(monkeypatch, capsys):
    code, out = play(monkeypatch, capsys, "7\n\n2\nr\nl\nb\n", "--at", "2026-11-22T03:00")
    assert code == 0
    assert 'says: "Det valg findes ikke."' in out
    assert 'says: "Vi hørte ikke noget valg."' in out
    assert "dialling: IT-kontakt 1 +4534412345 (rings 60 s, screened: must press 1)" in out
    assert 'callee hears: "Opkald fra Brøndby' in out
    assert "dialling: IT-kontakt 2 +4534412346" in out
    assert "dialling: Hjemmeplejens vagt +4543282730 (rings 30 s)" in out
    assert "outcome   no_answer" in out
    assert out.index("IT-kontakt 1") < out.index("IT-kontakt 2") < out.index("Hjemmeplejens vagt +45")


def test_a_caller_that_is_no_phone_number_is_sent_as_typed_and_said_so(monkeypatch, capsys):
    # Hidden numbers reach Twilio as text such as "anonymous": rehearsing one is allowed, a typo is told.
    code, out = play(monkeypatch, capsys, "q\n", "--at", "2026-11-23T10:00", "--from", "123")
    assert code == 0
    assert "from 123 " in out and "123 is not a phone number: it is sent as typed" in out


def test_in_process_call_writes_no_webhook_log_lines(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\na\n"))
    assert main(["call", "--at", "2026-11-23T10:00"]) == 0
    captured = capsys.readouterr()
    assert "outcome" in captured.out
    assert "webhook endpoint=" not in captured.err + captured.out   # a server's log, not the caller's


def test_in_process_call_answered_and_voicemail(monkeypatch, capsys):
    code, out = play(monkeypatch, capsys, "1\na\n", "--at", "2026-11-23T10:00")
    assert code == 0 and "dialling: Nexusteamet +4543282020" in out and "outcome   answered" in out
    code, out = play(monkeypatch, capsys, "1\nl\ny\n", "--at", "2026-11-22T10:00")
    assert "recording https://" in out and "outcome   voicemail" in out


def test_code_entry_example(monkeypatch, capsys):
    code, out = play(monkeypatch, capsys, "1\n153#\n1\nh\n", "--config", str(ROOT / "examples" / "kmd-support.yaml"),
                     "--at", "2026-11-23T10:00")
    assert code == 0
    assert "keys (end with #)" in out
    assert "dialling:" in out and "(you hung up while it rang)" in out
    assert "outcome   abandoned" in out


def test_end_of_input_hangs_up(monkeypatch, capsys):
    code, out = play(monkeypatch, capsys, "", "--at", "2026-11-23T10:00")
    assert code == 0 and "(you hung up)" in out and "outcome   hung_up" in out


def test_at_with_url_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["call", "--url", "http://127.0.0.1:9", "--at", "2026-11-23T10:00"]) == 2


def start_server(tmp_path, at: str):
    """Start `hotline serve --at AT` without Redis; returns (url, spool dir, process)."""
    port = free_port()
    env = {**os.environ, "HOTLINE_SPOOL_DIR": str(tmp_path / "spool"), "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    env.pop("TWILIO_AUTH_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--port", str(port), "--at", at],
                            cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("hotline serve did not start: " + (proc.stdout.read() if proc.stdout else ""))
    return url, tmp_path / "spool", proc


@pytest.fixture
def served(tmp_path):
    """A dev server whose clock starts on a Sunday night (Brøndby's IT contacts, screened)."""
    url, spool, proc = start_server(tmp_path, "2026-11-22T03:00")
    yield url, spool, proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def served_office_hours(tmp_path):
    """A dev server whose clock starts on a Monday at 10:00 (Brøndby's IT desk, not screened)."""
    url, spool, proc = start_server(tmp_path, "2026-11-23T10:00")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_serve_at_routes_on_its_own_clock(served, served_office_hours, monkeypatch, capsys):
    # The same key at the two servers' moments reaches two different targets, whatever the wall clock says.
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    code, night = play(monkeypatch, capsys, "2\nh\n", "--url", served[0])
    assert code == 0 and "dialling: IT-kontakt 1 +4534412345" in night
    code, day = play(monkeypatch, capsys, "2\nh\n", "--url", served_office_hours)
    assert code == 0 and "dialling: IT-afdelingen +4543282121" in day and "screened" not in day


def test_serve_without_redis_and_call_against_it(served, monkeypatch, capsys):
    url, spool, proc = served
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    code, out = play(monkeypatch, capsys, "2\na\n", "--url", url)
    assert code == 0 and "callee hears" in out and "logged by the server: its banner's `calls` line lists it" in out
    # unsigned posts are refused even in development
    req = urllib.request.Request(url + "/voice", data=b"To=%2B4570112230", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 403
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(spool))
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["calls", "--json"]) == 0
    import json

    records = json.loads(capsys.readouterr().out)
    assert len(records) == 1 and records[0]["outcome"] == "answered" and records[0]["keys"] == ["2"]


def test_invalid_input_at_the_prompts_asks_again(monkeypatch, capsys):
    # "x" at the keys prompt, "" and "z" at the dial prompt, "maybe" at the message prompt are not
    # choices: each is asked again instead of being taken as keys, a hang-up, "let ring" or "no".
    code, out = play(monkeypatch, capsys, "x1\n1\n\nz\nl\nmaybe\ny\n", "--at", "2026-11-22T03:00")
    assert code == 0
    assert out.count("keys, Enter = say nothing") == 2
    assert out.count("[a]nswer, [r]eject") == 3
    assert out.count("leave a message?") == 2
    assert "Det valg findes ikke." not in out
    assert "(you hung up while it rang)" not in out
    assert "step 1    Hjemmeplejens vagt: no-answer" in out
    assert "recording https://" in out and "outcome   voicemail" in out


def test_q_hangs_up_at_every_prompt_and_every_prompt_says_so(monkeypatch, capsys):
    # the keypad prompt
    code, out = play(monkeypatch, capsys, "q\n", "--at", "2026-11-23T10:00")
    assert code == 0 and "keys, Enter = say nothing, q = hang up > " in out
    assert "(you hung up)" in out and "outcome   hung_up" in out
    # the prompt of the person rung: q hangs up while it rings, and the prompt says q
    code, out = play(monkeypatch, capsys, "1\nq\n", "--at", "2026-11-23T10:00")
    assert code == 0 and "[v]oicemail picks up, q = hang up > " in out
    assert "(you hung up while it rang)" in out and "outcome   abandoned" in out
    # the voicemail prompt: q hangs up without a message
    code, out = play(monkeypatch, capsys, "1\nl\nq\n", "--at", "2026-11-22T10:00")
    assert code == 0 and "leave a message? [y]es / [n]o, q = hang up > " in out
    assert "(you hung up)" in out and "recording https://" not in out


def test_h_still_hangs_up_while_it_rings(monkeypatch, capsys):
    code, out = play(monkeypatch, capsys, "1\nh\n", "--at", "2026-11-23T10:00")
    assert code == 0 and "(you hung up while it rang)" in out and "outcome   abandoned" in out


def test_a_missed_call_ends_with_who_it_would_page_in_a_private_log(monkeypatch, capsys):
    monkeypatch.delenv("REDIS_URL", raising=False)
    code, out = play(monkeypatch, capsys, "1\nl\ny\n", "--at", "2026-11-22T10:00")
    assert code == 0
    assert out.rstrip().endswith("incident  missed: would page Hjemmeplejens vagt +4543282730 "
                                 "(numbered only in the real call log: run with --log)")
    code, out = play(monkeypatch, capsys, "", "--at", "2026-11-22T10:00")
    assert "incident" not in out  # hung up in the menu: nobody to page


def test_a_missed_call_logged_for_real_shows_its_incident_number(redis_url, monkeypatch, capsys):
    from ivr.calls import behind

    monkeypatch.setenv("REDIS_URL", redis_url)
    # The incident is numbered from the call log in Redis: the call's last events must be written
    # by then, however long the write-behind would let them gather.
    monkeypatch.setattr(behind, "LINGER", 0.5)
    code, out = play(monkeypatch, capsys, "1\nl\ny\n", "--at", "2026-11-22T10:00", "--log")
    assert code == 0
    assert out.rstrip().endswith('incident  1 (missed): paging Hjemmeplejens vagt +4543282730; they answer "OK 1"')
    code, out = play(monkeypatch, capsys, "1\na\n", "--at", "2026-11-23T10:00", "--log")
    assert out.rstrip().endswith("incident  2 (answered)")


class CtrlCAfter(io.StringIO):
    """stdin that gives its lines, then Ctrl-C (KeyboardInterrupt) where the next line would be read."""

    def readline(self, *args):
        line = super().readline(*args)
        if not line:
            raise KeyboardInterrupt
        return line


@pytest.mark.parametrize("typed, at", [("", "2026-11-23T10:00"), ("1\n", "2026-11-23T10:00"),
                                       ("1\nl\n", "2026-11-22T10:00")], ids=["keys", "ringing", "message"])
def test_ctrl_c_at_a_prompt_hangs_up_as_q_does(monkeypatch, capsys, typed, at):
    _, with_q = play(monkeypatch, capsys, typed + "q\n", "--at", at)
    monkeypatch.setattr(sys, "stdin", CtrlCAfter(typed))
    assert main(["call", "--at", at]) == 0
    with_ctrl_c = capsys.readouterr().out

    def same(out: str) -> list[str]:
        said = (line.split(" > ")[-1] for line in out.splitlines() if "CA" not in line)
        return [line for line in said if line.strip()]

    assert same(with_ctrl_c) == same(with_q)
