"""Console pages on the Flask test client: each shows what its CLI twin computes."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html.parser import HTMLParser

import pytest

from ivr import keys, week_svg
from ivr.cli import main
from ivr.config import load_config
from ivr.console import audit
from ivr.outages.store import OutageStore
from ivr.sms.segments import measure as count
from routing import decide
from tests.support.console import SECRET, Console, add_account
from tests.support.voice import EXAMPLES

BRONDBY = next(p for p in EXAMPLES if p.name == "brondby.yaml")
LINE = "+4570112230"
AT = dt.datetime(2026, 12, 24, 21, 0, tzinfo=dt.timezone.utc)  # Christmas Eve, 22:00 in Copenhagen


@pytest.fixture
def signed_in(voice_app, monkeypatch):
    """(Console signed in as admin "ada", VoiceApp on brondby.yaml at AT)."""
    monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LINE)
    va = voice_app(load_config(BRONDBY), at=AT)
    add_account(va.state.redis)
    c = Console(va.client)
    assert c.sign_in().status_code == 302
    return c, va


def _rows(html: str) -> list[dict]:
    return [dict(zip(("service", "keys", "route", "target", "next"), m)) for m in re.findall(
        r'data-service="([^"]*)" data-keys="([^"]*)"\s+data-route="([^"]*)" data-target="([^"]*)"\s+'
        r'data-next-change="([^"]*)"', html)]


@pytest.mark.parametrize("local", ["2026-12-24T22:00", "2026-11-24T10:30", "2026-12-28T07:59"])
def test_now_page_gives_the_answer_of_hotline_route(signed_in, capsys, local):
    c, _va = signed_in
    rows = _rows(c.get(f"/admin/?at={local}").get_data(as_text=True))
    assert {r["service"] for r in rows} == {"nexus", "network"}
    for row in rows:
        assert main(["route", "--config", str(BRONDBY), "--at", local, "--keys", row["keys"], "--json"]) == 0
        routed = json.loads(capsys.readouterr().out)
        assert (routed["service"], routed["route"], routed["target_name"], routed["next_change"] or "") == \
            (row["service"], row["route"], row["target"], row["next"])


def test_now_page_without_a_moment_uses_the_apps_clock_and_says_who_is_next(signed_in):
    c, _va = signed_in
    page = c.get("/admin/").get_data(as_text=True)
    hotline = load_config(BRONDBY).lines()[0]
    assert 'datetime="2026-12-24T22:00:00+01:00"' in page
    for service in ("nexus", "network"):
        d = decide(hotline.plan, service, AT)
        after = decide(hotline.plan, service, d.next_change)
        assert d.target_name in page and after.target_name in page and d.reason.replace(">", "&gt;") in page


def test_now_page_lists_open_outages(signed_in):
    c, va = signed_in
    assert c.post("/admin/outages/declare", {"line": LINE, "system": "nexus", "confirm": "1"}).status_code == 302
    page = c.get("/admin/").get_data(as_text=True)
    assert "Open outages" in page and "/admin/outages/1" in page


def test_week_page_of_christmas_week_names_juledag_and_serves_the_svg_file(signed_in):
    c, va = signed_in
    page = c.get("/admin/week?week=2026-W52").get_data(as_text=True)
    assert "Juledag" in page and "<svg" in page and "now 22:00" in page
    assert "week=2026-W51" in page and "week=2026-W53" in page
    svg = c.get(f"/admin/week.svg?week=2026-W52&line={LINE}")
    assert svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True) == week_svg.render(load_config(BRONDBY).lines()[0], dt.date(2026, 12, 21), AT)
    assert c.get("/admin/week?week=nonsense").status_code == 400


def _call(va, keys_pressed: str, caller: str):
    call = va.call(caller=caller)
    call.start()
    call.press(keys_pressed)
    call.ring("no-answer")
    call.hang_up()
    return call


def test_calls_are_filtered_and_exported_as_csv(signed_in):
    c, va = signed_in
    first = _call(va, "1", "+4534412350")
    va.clock.at += dt.timedelta(minutes=5)
    second = _call(va, "2", "+4534412351")
    page = c.get("/admin/calls").get_data(as_text=True)
    assert first.sid in page and second.sid in page
    only = c.get("/admin/calls?service=network").get_data(as_text=True)
    assert second.sid in only and first.sid not in only
    by_caller = c.get("/admin/calls?caller=34412350").get_data(as_text=True)
    assert first.sid in by_caller and second.sid not in by_caller
    before = c.get("/admin/calls?until=2026-12-24T22:03").get_data(as_text=True)
    assert first.sid in before and second.sid not in before
    exported = c.get("/admin/calls.csv?service=network")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(r["call_sid"], r["service"], r["from"], r["keys"]) for r in rows] == \
        [(second.sid, "network", "+4534412351", "2")]


def test_one_call_shows_the_timeline_of_hotline_calls_show(signed_in, capsys, redis_url, monkeypatch):
    c, va = signed_in
    call = _call(va, "1", "+4534412350")
    page = c.get(f"/admin/calls/{call.sid}").get_data(as_text=True)
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["calls", "--show", call.sid, "--config", str(BRONDBY)]) == 0
    for line in capsys.readouterr().out.splitlines():
        assert line.replace("&", "&amp;").replace('"', "&#34;").replace(">", "&gt;") in page
    assert c.get("/admin/calls/CAnope").status_code == 404


def test_declare_shows_the_text_and_segments_first_then_declares_and_restores(signed_in):
    c, va = signed_in
    confirm = c.post("/admin/outages/declare", {"line": LINE, "system": "nexus", "message": "Vi arbejder på det"})
    page = confirm.get_data(as_text=True)
    text = re.search(r'id="sms-text">([^<]*)<', page).group(1)
    assert "Nexus" in text and "Vi arbejder på det" in text
    assert re.search(r'id="sms-segments">(\d+)<', page).group(1) == str(count(text).segments)
    assert OutageStore(va.state.redis).open_id(LINE, "nexus") is None  # nothing declared yet
    done = c.post("/admin/outages/declare", {"line": LINE, "system": "nexus", "message": "Vi arbejder på det",
                                              "confirm": "1"})
    assert done.status_code == 302 and done.headers["Location"] == "/admin/outages/1"
    outage = c.get("/admin/outages/1").get_data(as_text=True)
    assert text in outage and 'http-equiv="refresh"' in outage and outage.count("data-to=") == 9
    r = va.state.redis
    assert OutageStore(r).get("1").declared_by == "console:ada"
    restore = c.post("/admin/outages/restore", {"line": LINE, "system": "nexus"}).get_data(as_text=True)
    assert "sms-text" in restore and OutageStore(r).open_id(LINE, "nexus") == "1"
    assert c.post("/admin/outages/restore", {"line": LINE, "system": "nexus", "confirm": "1"}).status_code == 302
    assert OutageStore(r).get("1").state.value == "restored"
    assert [e["action"] for e in audit.entries(r)][:2] == ["outage restore", "outage declare"]
    again = c.post("/admin/outages/restore", {"line": LINE, "system": "nexus"})
    assert again.status_code == 409


def test_resend_queues_those_that_gave_up(signed_in):
    c, va = signed_in
    c.post("/admin/outages/declare", {"line": LINE, "system": "nexus", "confirm": "1"})
    r = va.state.redis
    number = r.lrange(keys.blast_recipients("outage-1-down"), 0, 0)[0]
    r.hset(keys.blast_recipient("outage-1-down", number), mapping={"state": "failed", "error_code": "gave_up"})
    page = c.get("/admin/outages/1").get_data(as_text=True)
    assert "Resend to those that gave up (1)" in page and "gave up" in page
    resp = c.post("/admin/outages/1/resend", {})
    assert resp.status_code == 302
    assert "Queued again: 1" in c.get(resp.headers["Location"]).get_data(as_text=True)
    assert r.hget(keys.blast_recipient("outage-1-down", number), "state") == "pending"


def test_config_page_shows_version_and_answers_what_if(signed_in):
    c, _va = signed_in
    config = load_config(BRONDBY)
    page = c.get("/admin/config").get_data(as_text=True)
    assert config.version in page and str(BRONDBY) in page
    answer = c.post("/admin/config/whatif", {"line": LINE, "at": "2026-12-24T22:00", "keys": "2"}).get_data(as_text=True)
    d = decide(config.lines()[0].plan, "network", dt.datetime(2026, 12, 24, 22, 0, tzinfo=config.lines()[0].tz))
    assert d.target_name in answer and d.reason.replace(">", "&gt;") in answer
    bad = c.post("/admin/config/whatif", {"line": LINE, "at": "2026-12-24T22:00", "keys": "7"}).get_data(as_text=True)
    assert "do not reach a service" in bad


def test_preview_of_a_broken_config_names_the_line(signed_in):
    c, _va = signed_in
    text = BRONDBY.read_text(encoding="utf-8").replace("retries: 3", "retries: three", 1)
    line = text.splitlines().index("  retries: three") + 1
    page = c.post("/admin/config/preview", {"yaml": text}).get_data(as_text=True)
    assert re.search(rf"pasted\.yaml:{line}: menu\.retries", page)


def test_preview_of_a_file_larger_than_a_request_may_carry_says_so_on_the_page(signed_in):
    # The app takes no body over 64 KB (the webhooks' cap is app-wide, as nginx's): the console
    # says what happened instead of a bare "413 Request Entity Too Large".
    c, _va = signed_in
    text = BRONDBY.read_text(encoding="utf-8") + "# padding\n" * 8000
    answer = c.post("/admin/config/preview", {"yaml": text})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 413
    assert "larger than the 64 KB a request to the hotline may carry" in page and "<html" in page


def test_preview_of_a_good_config_draws_the_week_before_and_after(signed_in):
    c, _va = signed_in
    text = BRONDBY.read_text(encoding="utf-8")
    page = c.post("/admin/config/preview", {"yaml": text, "week": "2026-W52"}).get_data(as_text=True)
    assert "preview-ok" in page and page.count("<svg") == 2 and "Juledag" in page


def test_a_refused_config_is_shown_on_the_config_page(monkeypatch, tmp_path, redis_url):
    from ivr.app import create_app

    monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET)
    good = tmp_path / "hotline.yaml"
    good.write_text(BRONDBY.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(good))
    create_app(redis_url=redis_url, now=lambda: AT, spool_dir=str(tmp_path / "spool"))  # keeps a good copy
    good.write_text(good.read_text(encoding="utf-8").replace("retries: 3", "retries: three", 1), encoding="utf-8")
    app = create_app(redis_url=redis_url, now=lambda: AT, spool_dir=str(tmp_path / "spool"))
    add_account(app.extensions["hotline"].redis)
    c = Console(app.test_client())
    c.sign_in()
    page = c.get("/admin/config").get_data(as_text=True)
    assert "menu.retries" in page and "Last refusal" in page


class _Controls(HTMLParser):
    """Collects form controls and whether each has an accessible name."""

    def __init__(self):
        super().__init__()
        self.labels, self.controls, self.open_button, self.unnamed = set(), [], None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a)
        elif tag == "button":
            self.open_button = {"aria": a.get("aria-label"), "text": ""}

    def handle_data(self, data):
        if self.open_button is not None:
            self.open_button["text"] += data.strip()

    def handle_endtag(self, tag):
        if tag == "button" and self.open_button is not None:
            if not (self.open_button["aria"] or self.open_button["text"]):
                self.unnamed.append("button")
            self.open_button = None


def _unnamed(html: str) -> list:
    p = _Controls()
    p.feed(html)
    return p.unnamed + [c for c in p.controls if c.get("id") not in p.labels and not c.get("aria-label")]


def test_every_control_has_an_accessible_name(signed_in):
    c, _va = signed_in
    c.post("/admin/outages/declare", {"line": LINE, "system": "nexus", "confirm": "1"})
    for url in ("/admin/", "/admin/week", "/admin/calls", "/admin/outages", "/admin/outages/1", "/admin/config"):
        assert _unnamed(c.get(url).get_data(as_text=True)) == [], url
    assert _unnamed(c.post("/admin/outages/declare", {"line": LINE, "system": "network"}).get_data(as_text=True)) == []
    c.post("/admin/logout", {})
    assert _unnamed(c.get("/admin/login").get_data(as_text=True)) == []


@pytest.mark.parametrize("header,sign_in,declare", [
    ("da-DK,da;q=0.9,en;q=0.5", "Log ind", "Erklær nedbrud"),
    ("sv-SE,sv;q=0.9", "Logga in", "Utlys driftstopp"),
    ("fr-FR,fr;q=0.9", "Sign in", "Declare outage"),
    ("", "Sign in", "Declare outage"),
])
def test_language_follows_accept_language_with_english_when_nothing_matches(signed_in, header, sign_in, declare):
    c, _va = signed_in
    page = c.get("/admin/outages", headers={"Accept-Language": header})
    assert declare in page.get_data(as_text=True)
    assert page.headers["Content-Language"] == {"Log ind": "da", "Logga in": "sv"}.get(sign_in, "en")
    c.post("/admin/logout", {})
    assert sign_in in c.get("/admin/login", headers={"Accept-Language": header}).get_data(as_text=True)
