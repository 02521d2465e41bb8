"""Console incidents on the Flask test client: what `hotline incidents` shows, waiting ones on Now,
Acknowledge / Resolve as a responder (CSRF, audit log), and the incident on a call's page."""
from __future__ import annotations

import json
import re

import pytest

from ivr.cli import main
from ivr.console import audit
from ivr.console.accounts import Role
from ivr.incidents.jobs import settle_call, snapshot
from tests.incident_helpers import OFFICE, answered_by_desk, missed_into_voicemail, notify_config
from tests.support.console import SECRET, Console, add_account
from tests.support.voice import BASE_URL

LINE = "+4570112299"


@pytest.fixture
def world(voice_app, redis_url, monkeypatch):
    """A responder signed in; incident 1 missed (into voicemail), incident 2 answered."""
    monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LINE)
    va = voice_app(notify_config(), at=OFFICE)
    hotline = va.config.lines()[0]
    calls = [missed_into_voicemail(va), answered_by_desk(va)]
    for call in calls:
        settle_call(va.state.redis, snapshot(hotline, call.caller, BASE_URL), call.sid, OFFICE)
    add_account(va.state.redis, "rita", Role.RESPONDER)
    c = Console(va.client)
    assert c.sign_in("rita").status_code == 302
    return c, va, calls


def _rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-incident="([^"]+)" data-state="([^"]+)"', html)


def test_the_incidents_page_lists_what_hotline_incidents_lists_and_filters(world, capsys):
    c, _va, _calls = world
    assert main(["incidents", "--json"]) == 0
    cli = [(f"{i['line']} {i['id']}", i["state"]) for i in json.loads(capsys.readouterr().out)]
    assert _rows(c.get("/admin/incidents").get_data(as_text=True)) == cli == \
        [(f"{LINE} 2", "answered"), (f"{LINE} 1", "missed")]
    assert _rows(c.get("/admin/incidents?state=missed").get_data(as_text=True)) == [(f"{LINE} 1", "missed")]
    assert _rows(c.get(f"/admin/incidents?line={LINE}&since=2026-11-24T12:00").get_data(as_text=True)) == []
    assert c.get("/admin/incidents?state=bogus").status_code == 400


def test_now_shows_waiting_incidents_at_the_top(world):
    c, _va, _calls = world
    page = c.get("/admin/").get_data(as_text=True)
    assert _rows(page) == [(f"{LINE} 1", "missed")]                      # the answered one is not waiting
    assert page.index('class="waiting"') < page.index('class="hotline"')
    assert ">Acknowledge</button>" in page and ">Resolve</button>" in page


def test_a_responder_acknowledges_then_resolves_and_the_audit_log_says_so(world, capsys):
    c, va, _calls = world
    resp = c.post("/admin/incidents/acknowledge", {"line": LINE, "number": "1", "next": "/admin/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/")
    assert _rows(c.get("/admin/").get_data(as_text=True)) == []            # nobody waits any more
    assert main(["incidents", "show", "1"]) == 0
    assert "acknowledged rita" in capsys.readouterr().out
    assert c.post("/admin/incidents/resolve", {"line": LINE, "number": "1", "note": "Ringet op"}).status_code == 302
    assert main(["incidents", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["state"], shown["resolved_by"], shown["note"]) == ("resolved", "rita", "Ringet op")
    entries = [(e["who"], e["action"], e["detail"]) for e in audit.entries(va.state.redis)]
    assert entries[:2] == [("rita", "incident resolve", f"{LINE} 1: ok (rita)"),
                           ("rita", "incident acknowledge", f"{LINE} 1: ok (rita)")]


def test_acknowledging_without_a_csrf_token_is_refused(world):
    c, va, _calls = world
    resp = c.client.post("/admin/incidents/acknowledge", data={"line": LINE, "number": "1"})
    assert resp.status_code == 400
    assert va.state.redis.hget(f"hotline:incident:{LINE}:1", "state") in ("missed", b"missed")


def test_a_calls_page_shows_its_incident(world):
    c, _va, calls = world
    page = c.get(f"/admin/calls/{calls[0].sid}").get_data(as_text=True)
    assert "Incident 1" in page and _rows(page) == [(f"{LINE} 1", "missed")]


def test_the_buttons_speak_danish(world):
    c, _va, _calls = world
    page = c.get("/admin/incidents", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert ">Kvittér</button>" in page and ">Afslut</button>" in page and "Hændelser" in page
