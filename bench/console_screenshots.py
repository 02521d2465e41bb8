"""Screenshots of every console page, desktop and phone size, for docs/console.md.

Starts the same stack as the browser tests (tests/support/console_stack.py: gunicorn from the
Procfile, `hotline worker`, a throw-away redis-server, the Twilio stand-in) on examples/brondby.yaml,
makes a few calls and an outage with delivered SMS, and photographs each page in Debian's Chromium.

Run: .venv/bin/python bench/console_screenshots.py [--out docs/console]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.support.console_stack import ConsoleStack, launch, sign_in  # noqa: E402
from tests.support.fake_twilio import FakeTwilio  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

SIZES = {"desktop": (1280, 860), "phone": (390, 844)}
BRONDBY = ROOT / "examples" / "brondby.yaml"


def prepare(stack: ConsoleStack) -> str:
    """Accounts, three calls (with their incidents), one outage whose SMS were delivered; returns the
    outage page path."""
    stack.add_account("ada", "admin")
    for caller, keys in (("+4534412350", "1"), ("+4534412351", "2"), ("+4534412352", "1")):
        call = stack.call(caller)
        call.start()
        call.press(keys)
        call.ring("no-answer")
        call.hang_up()
    deadline = time.monotonic() + 60  # the worker numbers the calls' incidents (the missed ones page)
    while time.monotonic() < deadline and len(json.loads(stack.hotline("incidents", "--json"))) < 3:
        time.sleep(0.5)
    stack.hotline("outage", "declare", "--system", "nexus", "--message", "Vi arbejder på det.", "--by", "ada")
    delivered: set[str] = set()  # the outage's 9 site messages, and the missed calls' pages
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum("Vi arbejder" in m["body"] for m in stack.fake.messages
                                              if m["sid"] in delivered) < 9:
        for message in list(stack.fake.messages):
            if message["sid"] not in delivered:
                stack.deliver(message["sid"])
                delivered.add(message["sid"])
        time.sleep(0.3)
    return "/admin/outages/1"


def shoot(page, base: str, out: Path, size: str, outage: str) -> list[Path]:
    shots = []

    def snap(name: str) -> None:
        path = out / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page.goto(base + "/admin/login")
    snap("login")
    sign_in(page, base, "ada")
    page.goto(base + "/admin/?at=2026-12-24T22:00")
    snap("now")
    page.goto(base + "/admin/week?week=2026-W52")
    snap("week")
    page.goto(base + "/admin/calls")
    snap("calls")
    page.locator("table.calls a").first.click()
    snap("call")
    page.goto(base + "/admin/incidents")
    snap("incidents")
    page.goto(base + "/admin/outages")
    page.get_by_label("System").select_option("network")
    page.get_by_role("button", name="Declare outage").click()
    snap("declare-confirm")
    page.goto(base + outage)
    expect(page.locator('tr[data-status="delivered"]')).to_have_count(9, timeout=30_000)
    snap("outage")
    page.goto(base + "/admin/config")
    text = BRONDBY.read_text(encoding="utf-8").replace("retries: 3", "retries: three", 1)
    page.get_by_label("Paste YAML").fill(text)
    page.get_by_role("button", name="Preview").click()
    snap("config-preview-error")
    page.get_by_label("Paste YAML").fill(BRONDBY.read_text(encoding="utf-8").replace("thu: [\"08:00-18:00\"]", "thu: [\"08:00-20:00\"]"))
    page.get_by_label("Week").fill("2026-W52")
    page.get_by_role("button", name="Preview").click()
    snap("config-preview-weeks")
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "console"), help="directory for the PNG files")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, RedisServer() as redis_server, FakeTwilio() as fake:
        redis_server.start()
        with ConsoleStack(redis_server.url, fake, BRONDBY, Path(tmp)) as stack:
            outage = prepare(stack)
            with sync_playwright() as p:
                browser = launch(p)
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                                                  device_scale_factor=1, is_mobile=size == "phone")
                    page = context.new_page()
                    for path in shoot(page, stack.base, out, size, outage):
                        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                    context.close()
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
