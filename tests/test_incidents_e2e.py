"""Missed calls page people, on real processes: gunicorn as the Procfile starts it, redis-server,
`hotline worker`, and the Twilio stand-in that checks every request against Twilio's spec."""
from __future__ import annotations

import datetime as dt
import json
import re
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from ivr.callsim import CallSim, sign
from ivr.cli import main
from ivr.cli.call import http_post
from tests.incident_helpers import DUTY, TECH1, TECH2, outage_yaml
from tests.sms_helpers import client
from tests.support.gunicorn import Gunicorn
from tests.support.redis_server import free_port
from tests.support.rq_workers import WorkerPool, wait_until, worker_env

LINE = "+4570112299"
CALLER = "+4534412350"


@pytest.fixture
def stack(redis_url, fake_twilio, tmp_path, monkeypatch):
    """start(renotify, group_seconds) -> (gunicorn, workers) sharing one environment."""
    opened = []

    def start(renotify: str = "3s", group: str = "2"):
        config = tmp_path / "line.yaml"
        config.write_text(outage_yaml(renotify), encoding="utf-8")
        port = free_port()
        env = worker_env(redis_url, fake_twilio, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                         HOTLINE_CONFIG=str(config), TWILIO_FROM_NUMBER=LINE,
                         HOTLINE_INCIDENT_GROUP_SECONDS=group, HOTLINE_SMS_WATCH_SECONDS="1",
                         HOTLINE_SPOOL_DIR=str(tmp_path / "spool"),
                         HOTLINE_LAST_GOOD_DIR=str(tmp_path / "last-good"))
        for key in ("REDIS_URL", "TWILIO_API_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            monkeypatch.setenv(key, env[key])
        web = Gunicorn(env, tmp_path / "gunicorn.log", port).__enter__()
        opened.append(web)
        workers = WorkerPool(1, env, tmp_path).__enter__()
        opened.append(workers)
        wait_until(lambda: len(client(redis_url).keys("rq:worker:*")) >= 1, 20, message="worker up")
        return web, workers

    yield start
    for thing in reversed(opened):
        thing.__exit__(None, None, None)


def call_into_voicemail(web, token: str, caller: str = CALLER) -> CallSim:
    call = CallSim(http_post, LINE, caller, token, base_url=web.url)
    call.start()
    call.press("1")
    assert call.ring("no-answer").kind == "record"
    call.leave_message()
    call.hang_up()
    return call


def reply(web, token: str, sender: str, body: str) -> str:
    """Send an inbound SMS to /sms/incoming as Twilio would; returns the <Message> text ('' none)."""
    url = web.url + "/sms/incoming"
    params = {"MessageSid": "SM" + "5" * 32, "AccountSid": "AC" + "0" * 32, "From": sender, "To": LINE,
              "Body": body, "NumMedia": "0"}
    status, text = http_post(url, params, {"X-Twilio-Signature": sign(token, url, params)})
    assert status == 200, text
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return " ".join(m.text or "" for m in root.iter("Message"))


def to(fake, number: str) -> list[dict]:
    return [m for m in fake.messages if m["to"] == number]


def test_a_missed_call_pages_the_list_once_ok_acknowledges_tells_the_others_and_stops_renotify(
        stack, fake_twilio, redis_url, capsys):
    web, workers = stack(renotify="3s")
    call = call_into_voicemail(web, fake_twilio.auth_token)
    wait_until(lambda: len(to(fake_twilio, TECH1)) == 1 and len(to(fake_twilio, TECH2)) == 1, 30,
               message=lambda: f"pages to both techs\n{fake_twilio.messages}\n{workers.logs()}")
    page = to(fake_twilio, TECH1)[0]["body"]
    assert page == to(fake_twilio, TECH2)[0]["body"]
    assert "Ubesvaret opkald 1 til Testlinjen, Fagsystemet" in page and CALLER in page and "Svar OK 1" in page
    link = re.search(r"Talebesked: ja (\S+)\.", page).group(1)
    assert link.startswith(web.url + "/r/")

    next_round = "rq:job:hotline-page-4570112299-1-1"
    assert client(redis_url).exists(next_round)   # scheduled by the first round, before it sent anything
    assert reply(web, fake_twilio.auth_token, TECH1, "ok 1") == "Tak. Opkald 1 er dit (+4534412350)."
    wait_until(lambda: len(to(fake_twilio, TECH2)) == 2, 20, message=lambda: f"taken SMS\n{fake_twilio.messages}")
    assert to(fake_twilio, TECH2)[1]["body"] == "Opkald 1 til Testlinjen er taget af Tekniker 1 (+4534412362)."
    assert reply(web, fake_twilio.auth_token, TECH2, "OK 1") == \
        "Opkald 1 er allerede taget af Tekniker 1 (+4534412362)."
    assert reply(web, fake_twilio.auth_token, TECH2, "hvad?").startswith("Svar OK for det seneste opkald")
    assert reply(web, fake_twilio.auth_token, "+4534412399", "OK 1") == ""   # never paged: nothing changes

    # renotify_after is 3 s: the next round's job is gone (nothing of it kept in Redis), and well
    # past it the next list (the duty) was never paged.
    assert not client(redis_url).exists(next_round)
    time.sleep(6)
    assert to(fake_twilio, DUTY) == []
    assert len(to(fake_twilio, TECH1)) == 1 and len(to(fake_twilio, TECH2)) == 2

    # Twilio's delivery receipt for the first page reaches the incident's `notified`.
    url, sid = web.url + "/sms/status", to(fake_twilio, TECH1)[0]["sid"]
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert http_post(url, params, {"X-Twilio-Signature": sign(fake_twilio.auth_token, url, params)})[0] == 204
    capsys.readouterr()
    assert main(["incidents", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [n["status"] for n in shown["notified"] if n["to"] == TECH1] == ["delivered"]
    assert shown["call_sid"] == call.sid and shown["state"] == "acknowledged"
    assert shown["acknowledged_by"] == "Tekniker 1 (+4534412362)" and shown["acknowledged_at"]
    assert {(n["to"], n["message"]) for n in shown["notified"]} == {(TECH1, "r0"), (TECH2, "r0"), (TECH2, "taken")}
    assert all(n["sid"] and n["status"] for n in shown["notified"])


def test_an_unacknowledged_incident_pages_the_next_list_after_renotify_after(stack, fake_twilio):
    web, workers = stack(renotify="5s")
    call_into_voicemail(web, fake_twilio.auth_token)
    wait_until(lambda: len(to(fake_twilio, DUTY)) == 1, 40,
               message=lambda: f"reminder to the duty\n{fake_twilio.messages}\n{workers.logs()}")
    first = min(m["received_at"] for m in fake_twilio.messages if m["to"] == TECH1)
    reminder = to(fake_twilio, DUTY)[0]
    assert reminder["body"].startswith("Påmindelse: Ubesvaret opkald 1 ")
    assert reminder["received_at"] - first >= 3.0   # not before renotify_after (5 s; sending the first takes a moment)
    assert len(to(fake_twilio, TECH1)) == 1 and len(to(fake_twilio, TECH2)) == 1
    # "DONE 1" from the duty closes it (and it is the duty who took it).
    assert reply(web, fake_twilio.auth_token, DUTY, "DONE 1") == "Opkald 1 er lukket."


def test_thirty_missed_calls_during_one_outage_page_each_person_once(stack, fake_twilio, redis_url):
    from ivr.outages.store import OutageStore

    OutageStore(client(redis_url)).declare(LINE, "nexus", {"message": "", "declared_by": "test"},
                                           dt.datetime.now(dt.timezone.utc))
    web, workers = stack(renotify="1h", group="20")
    started = time.monotonic()
    with ThreadPoolExecutor(5) as pool:   # thirty callers, five at a time
        list(pool.map(lambda i: call_into_voicemail(web, fake_twilio.auth_token, caller=f"+45344124{i:02d}"),
                      range(30)))
    assert time.monotonic() - started < 15, "the calls took longer than the grouping window allows"
    wait_until(lambda: len(to(fake_twilio, TECH1)) >= 1 and len(to(fake_twilio, TECH2)) >= 1, 60,
               message=lambda: f"grouped page\n{workers.logs()}")
    time.sleep(3)
    assert len(to(fake_twilio, TECH1)) == 1 and len(to(fake_twilio, TECH2)) == 1, fake_twilio.messages
    body = to(fake_twilio, TECH1)[0]["body"]
    assert body.startswith("30 ubesvarede opkald til Testlinjen, Fagsystemet"), body
    assert "Svar OK 1" in body
    # One OK takes all thirty.
    assert reply(web, fake_twilio.auth_token, TECH2, "OK") == "Tak. De 30 opkald (1 m.fl.) er dine."
