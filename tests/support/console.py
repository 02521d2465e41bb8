"""Helpers for console tests: accounts, CSRF tokens from the pages, a signed-in test client."""
from __future__ import annotations

import datetime as dt
import re

from ivr.console.accounts import AccountStore, Role

PASSWORD = "correct horse battery"
SECRET = "console-test-secret-0123456789abcdef0123456789"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_account(redis, name: str = "ada", role: Role = Role.ADMIN, password: str = PASSWORD) -> None:
    """Create a console account (the moment only stamps created_at)."""
    AccountStore(redis).add(name, password, role, dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page; AssertionError when there is none."""
    found = _TOKEN.search(html)
    assert found, "no csrf_token on the page"
    return found.group(1)


class Console:
    """A Flask test client signed in (or not) to the console."""

    def __init__(self, client):
        self.client = client

    def sign_in(self, user: str = "ada", password: str = PASSWORD, address: str = "192.0.2.10"):
        page = self.client.get("/admin/login").get_data(as_text=True)
        return self.client.post("/admin/login", data={"user": user, "password": password,
                                                      "csrf_token": csrf_token(page)},
                                environ_base={"REMOTE_ADDR": address})

    def token(self) -> str:
        return csrf_token(self.client.get("/admin/").get_data(as_text=True))

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict, **kwargs):
        """POST a form with a fresh CSRF token."""
        return self.client.post(url, data={**data, "csrf_token": self.token()}, **kwargs)
