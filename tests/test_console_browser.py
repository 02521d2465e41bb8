"""The console end to end in Debian's Chromium (Playwright), against gunicorn started from the
Procfile, `hotline worker`, a real redis-server and the Twilio stand-in.

Expectations come from the same moment the page used (`?at=` or the moment the page shows), so
nothing here depends on when it runs.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
if not Path("/usr/bin/chromium").exists() or not Path(sys.executable).with_name("gunicorn").exists():
    pytest.skip("needs Debian's chromium (apt-get install chromium) and gunicorn", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.support.console import PASSWORD  # noqa: E402
from tests.support.console_stack import ConsoleStack, launch, sign_in  # noqa: E402
from tests.support.fake_twilio import FakeTwilio  # noqa: E402
from tests.support.rq_workers import wait_until  # noqa: E402
from tests.support.voice import EXAMPLES  # noqa: E402

BRONDBY = next(p for p in EXAMPLES if p.name == "brondby.yaml")
SITES = 9  # brondby.yaml's site phones


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    redis_server.start()
    redis_server.flushall()
    with FakeTwilio() as fake:
        with ConsoleStack(redis_server.url, fake, BRONDBY, tmp_path_factory.mktemp("console")) as running:
            running.add_account("ada", "admin")
            running.add_account("rita", "responder")
            yield running
        fake.assert_no_violations()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    # A blocked inline script or style (Content-Security-Policy) or a missing file shows up here.
    assert [e for e in errors if not re.search(r"status of 4(01|03|29)", e)] == []


def test_nothing_without_signing_in(page, stack):
    page.goto(stack.base + "/admin/outages")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_refused_and_then_rate_limited(page, stack):
    stack.add_account("eve", "responder")
    for _ in range(5):
        sign_in(page, stack.base, "eve", "not the password at all")
        expect(page.get_by_role("alert")).to_have_text("Wrong user or password")
    sign_in(page, stack.base, "eve", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Too many attempts; try again later")
    expect(page).to_have_url(re.compile(r"/admin/login$"))


def test_a_post_without_csrf_token_is_refused_even_when_signed_in(page, stack):
    sign_in(page, stack.base, "ada")
    expect(page.get_by_role("heading", name="Now")).to_be_visible()
    resp = page.request.post(stack.base + "/admin/outages/declare",
                             form={"line": "+4570112230", "system": "nexus", "confirm": "1"})
    assert resp.status == 400 and "CSRF" in resp.text()
    assert "open" not in stack.hotline("outage", "list", "--open")


def _rows(page) -> list[dict]:
    rows = page.locator("tr.service")
    return [{k: rows.nth(i).get_attribute(f"data-{k}") for k in ("service", "keys", "route", "target", "next-change")}
            for i in range(rows.count())]


def _route(stack, at: str, keys: str) -> dict:
    return json.loads(stack.hotline("route", "--at", at, "--keys", keys, "--json"))


def test_now_reads_the_same_as_hotline_route(page, stack):
    sign_in(page, stack.base, "rita")
    page.get_by_label("Moment").fill("2026-12-24T22:00")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("time.moment")).to_have_attribute("datetime", "2026-12-24T22:00:00+01:00")
    shown = page.locator("time.moment").get_attribute("datetime")
    rows = _rows(page)
    assert {r["service"] for r in rows} == {"nexus", "network"}
    for row in rows:
        routed = _route(stack, shown, row["keys"])
        assert (routed["service"], routed["route"], routed["target_name"], routed["next_change"]) == \
            (row["service"], row["route"], row["target"], row["next-change"])
    page.goto(stack.base + "/admin/")  # the server's own clock: compare at the moment the page shows
    shown = page.locator("time.moment").get_attribute("datetime")
    for row in _rows(page):
        routed = _route(stack, shown, row["keys"])
        assert (routed["target_name"], routed["next_change"] or "") == (row["target"], row["next-change"])


def test_christmas_week_names_juledag(page, stack):
    sign_in(page, stack.base, "rita")
    page.goto(stack.base + "/admin/week?week=2026-W51")
    page.get_by_role("link", name="Next week →").click()
    expect(page).to_have_url(re.compile(r"week=2026-W52"))
    expect(page.locator("svg text.day-note", has_text="Juledag").first).to_be_visible()
    expect(page.locator(".day-notes")).to_contain_text("Fri 25 Dec: Juledag")


def test_declare_watch_every_sms_delivered_then_restore(page, stack):
    sign_in(page, stack.base, "rita")
    page.get_by_role("link", name="Outages").click()
    page.get_by_label("System").select_option("nexus")
    page.get_by_label("Message").fill("Vi arbejder på det.")
    page.get_by_role("button", name="Declare outage").click()
    text = page.locator("#sms-text").inner_text()
    assert "Nexus" in text and "Vi arbejder på det." in text
    expect(page.locator("#sms-segments")).to_have_text("1")
    expect(page.locator("#sms-recipients")).to_have_text(str(SITES))
    page.get_by_role("button", name="Declare outage").click()
    expect(page.locator("#outage-state")).to_have_text("open")
    sent = stack.fake.wait_for_messages(SITES, timeout=60)
    assert {m["body"] for m in sent} == {text}
    for message in sent:
        assert stack.deliver(message["sid"]) == 204
    # The page refreshes itself while the blast runs; every row reaches "delivered".
    expect(page.locator('tr[data-status="delivered"]')).to_have_count(SITES, timeout=30_000)
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0, timeout=15_000)
    page.get_by_role("button", name="Restore").click()
    expect(page.locator("#sms-text")).to_contain_text("virker igen")
    page.get_by_role("button", name="Restore").click()
    expect(page.locator("#outage-state")).to_have_text("restored")
    stack.fake.wait_for_messages(2 * SITES, timeout=60)
    audit = json.loads(stack.hotline("audit", "--json"))
    assert [e["action"] for e in audit if e["who"] == "rita"][:2] == ["outage restore", "outage declare"]


def test_calls_export_csv_and_read_it_back(page, stack, tmp_path):
    call = stack.call("+4534412377")
    call.start()
    call.press("2")
    call.hang_up()
    sign_in(page, stack.base, "rita")
    page.get_by_role("link", name="Calls").click()
    page.get_by_label("Caller").fill("+4534412377")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f'tr[data-sid="{call.sid}"]')).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = tmp_path / "calls.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [(r["call_sid"], r["from"], r["service"], r["keys"]) for r in rows] == \
        [(call.sid, "+4534412377", "network", "2")]


def test_preview_a_broken_config_and_see_its_line(page, stack):
    text = BRONDBY.read_text(encoding="utf-8").replace("retries: 3", "retries: three", 1)
    line = text.splitlines().index("  retries: three") + 1
    sign_in(page, stack.base, "ada")
    page.get_by_role("link", name="Config").click()
    page.get_by_label("Paste YAML").fill(text)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-errors")).to_contain_text(f"pasted.yaml:{line}: menu.retries")


def test_responders_are_kept_off_the_config_page(page, stack):
    sign_in(page, stack.base, "rita")
    expect(page.get_by_role("link", name="Config")).to_have_count(0)
    page.goto(stack.base + "/admin/config")
    expect(page.get_by_role("alert")).to_have_text("Only admins see this page")


def _missed_call(stack, caller: str):
    """A call about Nexus that nobody takes (whoever routing rings at this moment), ending in a message."""
    call = stack.call(caller)
    call.start()
    turn = call.press("1")
    for _ in range(6):
        if turn.kind == "dial":
            turn = call.ring("no-answer")
        elif turn.kind == "record":
            turn = call.leave_message()
        else:
            break
    call.hang_up()
    return call


def test_a_missed_call_waits_on_now_until_acknowledged_in_the_browser(page, stack):
    call = _missed_call(stack, "+4534412378")
    found: list[dict] = []

    def numbered() -> bool:
        found[:] = [i for i in json.loads(stack.hotline("incidents", "--json")) if i["call_sid"] == call.sid]
        return bool(found)
    wait_until(numbered, 60, 0.5, "the missed call's incident")
    incident = found[0]
    assert incident["state"] == "missed"
    sign_in(page, stack.base, "rita")
    waiting = page.locator("section.waiting")
    row = waiting.locator(f'tr[data-incident="{incident["line"]} {incident["id"]}"]')
    expect(row).to_be_visible()
    assert page.locator("section.waiting").evaluate("s => s === document.querySelector('main section')")
    row.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("acknowledged (rita)")
    expect(page.locator(f'section.waiting tr[data-incident="{incident["line"]} {incident["id"]}"]')).to_have_count(0)
    shown = stack.hotline("incidents", "show", str(incident["id"]), "--line", incident["line"])
    assert f"incident {incident['id']} on {incident['line']}" in shown and ": acknowledged" in shown
    assert re.search(r"acknowledged +rita", shown)
    page.get_by_role("link", name="Incidents").click()
    done = page.locator(f'tr[data-incident="{incident["line"]} {incident["id"]}"]')
    expect(done).to_have_attribute("data-state", "acknowledged")
    expect(done.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
    expect(done.get_by_role("button", name="Resolve", exact=True)).to_be_visible()
    audit = json.loads(stack.hotline("audit", "--json"))
    assert any(e["who"] == "rita" and e["action"] == "incident acknowledge" for e in audit)
