"""The whole hotline on real processes for browser tests and screenshots: gunicorn as the Procfile
starts it (tests/support/gunicorn.py), `hotline worker`, a real redis-server and the Twilio stand-in; and Debian's
Chromium driven by Playwright (never a downloaded browser)."""
from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ivr.callsim import CallSim, sign
from tests.support.console import PASSWORD, SECRET
from tests.support.gunicorn import Gunicorn
from tests.support.redis_server import free_port
from tests.support.rq_workers import WorkerPool, worker_env

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SENDER = "+4570112230"


class ConsoleStack:
    """gunicorn (Procfile web line) + one `hotline worker` on `redis_url`, talking to `fake` Twilio.

    `config` is HOTLINE_CONFIG; `base` the console's URL; `post()` signs like Twilio does.
    """

    def __init__(self, redis_url: str, fake, config: Path, workdir: Path):
        self.redis_url, self.fake, self.config, self.workdir = redis_url, fake, config, workdir
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = worker_env(redis_url, fake, HOTLINE_CONFIG=str(config), TWILIO_FROM_NUMBER=SENDER,
                              PUBLIC_BASE_URL=self.base, HOTLINE_SECRET_KEY=SECRET,
                              HOTLINE_SPOOL_DIR=str(workdir / "spool"),
                              HOTLINE_LAST_GOOD_DIR=str(workdir / "last-good"))
        self.web = Gunicorn(self.env, workdir / "gunicorn.log", port)
        self.workers: WorkerPool | None = None

    def start(self) -> "ConsoleStack":
        self.workers = WorkerPool(1, self.env, self.workdir)
        try:
            self.web.start()
        except RuntimeError:
            self.stop()
            raise
        return self

    def log(self) -> str:
        return self.web.log(4000)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        self.web.stop()

    def __enter__(self) -> "ConsoleStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add_account(self, user: str, role: str = "admin", password: str = PASSWORD) -> None:
        """Create a console account with `hotline admin add` (the CLI, as an admin would)."""
        subprocess.run([sys.executable, "-m", "ivr.cli", "admin", "add", user, "--role", role, "--password-stdin"],
                       input=password + "\n", text=True, env=self.env, cwd=ROOT, check=True, capture_output=True)

    def hotline(self, *args: str) -> str:
        """Run the `hotline` CLI with the stack's environment; returns stdout (CalledProcessError on failure)."""
        return subprocess.run([sys.executable, "-m", "ivr.cli", *args], env=self.env, cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    def post(self, url: str, params: dict, headers: dict) -> tuple[int, str]:
        """POST a form to the web process, as Twilio does; returns (status, body)."""
        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def call(self, caller: str) -> CallSim:
        """A simulated, signed call to the first line of the config."""
        return CallSim(self.post, SENDER, caller, self.fake.auth_token, base_url=self.base)

    def deliver(self, sid: str, status: str = "delivered") -> int:
        """Send Twilio's status callback for message `sid` (signed); returns the HTTP status."""
        self.fake.set_status(sid, status)
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.fake.account_sid}
        url = self.base + "/sms/status"
        return self.post(url, params, {"X-Twilio-Signature": sign(self.fake.auth_token, url, params)})[0]


def launch(playwright):
    """Return Debian's Chromium, headless, started by Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def sign_in(page, base: str, user: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person does."""
    page.goto(base + "/admin/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
