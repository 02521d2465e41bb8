"""Incident SMS: the texts, the reply commands, the signed voicemail links and the recording proxy."""
from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import time
from zoneinfo import ZoneInfo

import pytest

from ivr.incidents import links, texts
from ivr.incidents.jobs import settle_call, snapshot
from ivr.incidents.replies import parse
from ivr.incidents.store import IncidentStore
from tests.incident_helpers import OFFICE, missed_into_voicemail, notify_config
from tests.sms_helpers import client

CPH = ZoneInfo("Europe/Copenhagen")
NIGHT = dt.datetime(2026, 11, 24, 1, 14, tzinfo=dt.timezone.utc)  # 02:14 in Copenhagen


def incident(n: int, **extra) -> dict:
    return {"id": n, "from": "+4534412350", "service_name": "Nexus er nede", "started_at": NIGHT.isoformat(),
            **extra}


def test_one_missed_call_says_what_to_act_on_in_one_sms():
    body = texts.notification([incident(17, caller_name="Øster (Akut)", recording_url="https://api.twilio.com/x")],
                              "Brøndby", "da-DK", CPH, NIGHT + dt.timedelta(minutes=1), {17: "https://h.example/r/t"})
    assert body == ("Ubesvaret opkald 17 til Brøndby, Nexus er nede, kl. 02:14 fra Øster (Akut) +4534412350. "
                    "Talebesked: ja https://h.example/r/t. Svar OK 17")
    without = texts.notification([incident(3)], "Örebro", "sv-SE", CPH, NIGHT, {}, reminder=True)
    assert without.startswith("Påminnelse: Obesvarat samtal 3 till Örebro") and "Röstmeddelande: nej" in without
    assert without.endswith("Svara OK 3")


def test_an_old_call_carries_its_date_and_a_group_names_how_many():
    late = NIGHT + dt.timedelta(days=1)
    group = [incident(n, recording_url="u" if n == 18 else None) for n in range(17, 22)]
    body = texts.notification(group, "Brøndby", "da", CPH, late, {18: "https://h.example/r/18"})
    assert body.startswith("5 ubesvarede opkald til Brøndby, Nexus er nede, siden 24/11 kl. 02:14: ")
    assert "17 fra +4534412350, 18 fra +4534412350, 19 fra +4534412350, og 2 flere" in body
    assert "Talebeskeder: https://h.example/r/18." in body and body.endswith("Svar OK 17")


@pytest.mark.parametrize("body,expected", [
    ("OK", ("ok", None)), ("ok 17", ("ok", 17)), (" Ok17 ", ("ok", 17)), ("OK #17.", ("ok", 17)),
    ("DONE 17", ("done", 17)), ("færdig 4", ("done", 4)), ("klart 9", ("done", 9)),
    ("ok tak", ("help", None)), ("", ("help", None)), ("17", ("help", None)), ("Hvem er det?", ("help", None)),
])
def test_reply_commands(body, expected):
    assert parse(body) == expected


def test_voicemail_links_are_signed_and_expire():
    token = links.make("+4570112230", 17, "s3cret", 2_000_000_000)
    assert links.read(token, "s3cret", now=1_900_000_000) == ("+4570112230", 17)
    assert links.read(token, "s3cret", now=2_000_000_001) is None          # expired
    assert links.read(token, "other", now=1_900_000_000) is None           # another secret
    forged = token.replace("-17-", "-18-")
    assert "-" in links.make("+4570112230", 17, "s3cret", 2_000_000_000).split("-", 3)[3]  # a "-" in the signature
    assert links.read(forged, "s3cret", now=1_900_000_000) is None         # another incident
    assert links.read("garbage", "s3cret") is None and links.read(token, "", now=0) is None
    assert links.url("", "+4570112230", 17, "s3cret", 0) is None


class _Recordings(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802
        self.seen.append((self.path, self.headers.get("Authorization")))
        if not self.headers.get("Authorization"):
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.end_headers()
        self.wfile.write(b"ID3-fake-mp3")

    def log_message(self, *args):
        pass


@pytest.fixture
def recordings():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recordings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recordings.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_link_streams_the_recording_with_the_account_credentials(voice_app, redis_url, recordings, monkeypatch):
    monkeypatch.setenv("HOTLINE_LINK_SECRET", "link-secret")
    monkeypatch.setenv("TWILIO_API_BASE_URL", recordings)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "account-token")
    app = voice_app(notify_config(), at=OFFICE)
    call = missed_into_voicemail(app)
    hotline = app.config.lines()[0]
    r = client(redis_url)
    _, number = settle_call(r, snapshot(hotline, call.caller, "https://hotline.example.org"), call.sid, OFFICE)
    url = links.url("https://hotline.example.org", hotline.line, number, "link-secret", time.time())
    resp = app.client.get(url.replace("https://hotline.example.org", ""))
    assert resp.status_code == 200 and resp.data == b"ID3-fake-mp3" and resp.mimetype == "audio/mpeg"
    path, auth = _Recordings.seen[-1]
    assert path == "/2010-04-01/Accounts/AC0/Recordings/RE1.mp3" and auth.startswith("Basic ")
    assert app.client.get("/r/" + url.rsplit("/", 1)[1][:-2] + "xx").status_code == 404
    IncidentStore(r).set_fields(hotline.line, number, recording_url="https://evil.example/steal")
    assert app.client.get(url.replace("https://hotline.example.org", "")).status_code == 404  # only Twilio URLs


def test_a_voicemail_greeting_waits_for_the_message_before_settling(voice_app, redis_url):
    from ivr import keys
    from ivr.incidents import due
    from ivr.sms.jobs import queue

    app = voice_app(notify_config(), at=OFFICE)
    call = app.call()
    call.start()
    call.press("1")
    assert call.ring("no-answer").kind == "record"   # the greeting plays: nothing to settle yet but later
    r = client(redis_url)
    q = queue(r)
    start = OFFICE.timestamp()
    [(_, safety_net)] = r.zrange(keys.settle_due(), 0, -1, withscores=True)
    assert safety_net == start + due.VOICEMAIL_WAIT   # the safety net, after the longest message
    assert due.pump_once(r, start + due.VOICEMAIL_WAIT - 1) == 0 and q.count == 0
    call.leave_message()
    assert due.pump_once(r, start) == 1 and q.count == 1   # the message came: settle now
    assert due.pump_once(r, start + due.VOICEMAIL_WAIT) == 1 and q.count == 2   # the net: settling finds it


def test_typographic_dashes_do_not_make_the_sms_ucs2():
    body = texts.notification([incident(1)], "Brøndby Ældre og Omsorg – nedbrud", "da", CPH, NIGHT, {})
    assert "Omsorg - nedbrud" in body and "Brøndby Ældre" in body
    assert texts.taken("da", "Linje “A” – nat", 1, 1, "Anna") == 'Opkald 1 til Linje "A" - nat er taget af Anna.'
