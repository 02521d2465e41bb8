"""Who gets into the console: accounts, sign-in, rate limits, sessions, CSRF, cookies, headers, audit."""
from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest

from ivr.cli import main
from ivr.console import audit, signin_limit
from ivr.console.accounts import AccountError, AccountStore, Role
from ivr.config import load_config
from ivr.callsim import sign
from tests.support.console import PASSWORD, SECRET, Console, add_account, csrf_token
from tests.support.voice import AUTH_TOKEN, BASE_URL, EXAMPLES

BRONDBY = next(p for p in EXAMPLES if p.name == "brondby.yaml")
AT = dt.datetime(2026, 12, 24, 21, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def console(voice_app, monkeypatch):
    """A factory: console(role=Role.ADMIN) -> (Console signed out, VoiceApp) with account "ada"."""
    monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET)

    def make(role: Role = Role.ADMIN):
        va = voice_app(load_config(BRONDBY), at=AT)
        add_account(va.state.redis, "ada", role)
        return Console(va.client), va

    return make


def test_accounts_store_an_argon2_hash_and_check_the_password(redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    store = AccountStore(r)
    store.add("Ada", PASSWORD, Role.ADMIN, AT)
    stored = r.hget("hotline:console:account:ada", "hash").decode()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert store.verify("ada", PASSWORD).role is Role.ADMIN
    assert store.verify("ada", "wrong password!") is None
    assert store.verify("nobody", PASSWORD) is None
    with pytest.raises(AccountError, match="exists"):
        store.add("ada", PASSWORD, Role.RESPONDER, AT)
    with pytest.raises(AccountError, match="at least"):
        store.add("bob", "short", Role.RESPONDER, AT)
    store.set_password("ada", "another long password")
    assert store.verify("ada", PASSWORD) is None and store.verify("ada", "another long password")
    store.remove("ada")
    assert store.get("ada") is None and store.list() == []


def test_admin_cli_adds_lists_changes_and_removes_accounts(redis_url, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "add", "ada", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "add", "bo", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["admin", "add", "bo", "--password-stdin"]) == 1  # exists
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["admin", "add", "cy", "--password-stdin"]) == 2
    capsys.readouterr()
    assert main(["admin", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["user"], a["role"]) for a in listed] == [("ada", "admin"), ("bo", "responder")]
    assert "argon2" not in json.dumps(listed)
    monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
    assert main(["admin", "passwd", "bo", "--password-stdin"]) == 0
    import redis

    assert AccountStore(redis.Redis.from_url(redis_url)).verify("bo", "a new long password")
    assert main(["admin", "remove", "bo"]) == 0
    assert main(["admin", "remove", "bo"]) == 1
    err = capsys.readouterr().err
    assert "no account bo" in err and "Traceback" not in err


def test_admin_cli_without_redis_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["admin", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hotline: cannot reach Redis") and len(err.strip().splitlines()) == 1


def test_nothing_under_admin_without_signing_in(console):
    c, _va = console()
    for url in ("/admin/", "/admin/week", "/admin/calls", "/admin/calls.csv", "/admin/outages", "/admin/config",
                "/admin/outages/1", "/admin/week.svg"):
        resp = c.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/admin/login"), url
    page = c.get("/admin/login").get_data(as_text=True)
    token = csrf_token(page)
    resp = c.client.post("/admin/outages/declare", data={"csrf_token": token, "line": "+4570112230",
                                                         "system": "nexus", "confirm": "1"})
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]


def test_sign_in_and_out(console):
    c, va = console()
    resp = c.sign_in()
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/"
    page = c.get("/admin/").get_data(as_text=True)
    assert "Signed in as ada" in page
    assert c.post("/admin/logout", {}).status_code == 302
    assert c.get("/admin/").status_code == 302
    actions = [e["action"] for e in audit.entries(va.state.redis)]
    assert actions[:2] == ["sign-out", "sign-in"]


def test_wrong_password_is_refused_and_then_rate_limited_per_account(console):
    c, va = console()
    for _ in range(signin_limit.MAX_PER_ACCOUNT):
        assert c.sign_in(password="not the password").status_code == 401
    resp = c.sign_in()  # the right password, but the account is locked for the window
    assert resp.status_code == 429 and "Too many attempts" in resp.get_data(as_text=True)
    assert c.sign_in("ada", PASSWORD, address="192.0.2.99").status_code == 429
    assert va.state.redis.ttl("hotline:console:fail:user:ada") > 0
    assert audit.entries(va.state.redis)[0]["action"] == "sign-in refused"


def test_one_address_trying_many_accounts_is_rate_limited(console):
    c, va = console()
    for i in range(signin_limit.MAX_PER_ADDRESS):
        c.sign_in(f"user{i}", "not the password", address="198.51.100.7")
    assert c.sign_in("ada", PASSWORD, address="198.51.100.7").status_code == 429
    assert c.sign_in("ada", PASSWORD, address="198.51.100.8").status_code == 302


def test_a_post_without_csrf_token_is_refused(console):
    c, _va = console()
    c.get("/admin/login")
    assert c.client.post("/admin/login", data={"user": "ada", "password": PASSWORD}).status_code == 400
    c.sign_in()
    resp = c.client.post("/admin/outages/declare", data={"line": "+4570112230", "system": "nexus", "confirm": "1"})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    resp = c.client.post("/admin/outages/declare", data={"line": "+4570112230", "system": "nexus",
                                                         "csrf_token": "forged"})
    assert resp.status_code == 400


def test_twilio_webhooks_need_no_csrf_token_but_a_signature(console):
    _c, va = console()
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert va.client.post("/sms/status", data=params).status_code == 403  # unsigned
    signed = {"X-Twilio-Signature": sign(AUTH_TOKEN, BASE_URL + "/sms/status", params)}
    assert va.client.post("/sms/status", data=params, headers=signed).status_code == 204


def test_session_expires_after_idle_time_on_the_apps_clock(console):
    c, va = console()
    c.sign_in()
    va.clock.at = AT + dt.timedelta(minutes=29)
    assert c.get("/admin/").status_code == 200
    va.clock.at += dt.timedelta(minutes=31)
    resp = c.get("/admin/")
    assert resp.status_code == 302
    assert "session has expired" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_session_ends_at_the_latest_after_twelve_hours_even_when_busy(console):
    c, va = console()
    c.sign_in()
    for _ in range(25):
        va.clock.at += dt.timedelta(minutes=29)
        if c.get("/admin/").status_code != 200:
            break
    assert va.clock.at - AT <= dt.timedelta(hours=12, minutes=29)
    assert c.get("/admin/").status_code == 302


def test_a_removed_account_is_signed_out_at_its_next_request(console):
    c, va = console()
    c.sign_in()
    AccountStore(va.state.redis).remove("ada")
    assert c.get("/admin/").status_code == 302


def test_responders_do_not_see_the_config_pages(console):
    c, _va = console(Role.RESPONDER)
    c.sign_in()
    page = c.get("/admin/").get_data(as_text=True)
    assert "/admin/config" not in page
    assert c.get("/admin/config").status_code == 403
    assert c.post("/admin/config/whatif", {"line": "+4570112230", "keys": "1"}).status_code == 403


def test_pages_carry_a_strict_csp_and_the_cookie_is_limited_to_the_console(console):
    c, _va = console()
    resp = c.sign_in()
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/admin" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the app's public base URL is https
    page = c.get("/admin/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in page.get_data(as_text=True)
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_cookie_is_not_marked_secure_on_a_plain_http_development_url(redis_url, tmp_path, monkeypatch):
    from ivr.app import create_app

    monkeypatch.setenv("HOTLINE_SECRET_KEY", SECRET)
    app = create_app(load_config(BRONDBY), redis_url=redis_url, auth_token=AUTH_TOKEN,
                     public_base_url="http://127.0.0.1:5000", now=lambda: AT, spool_dir=str(tmp_path))
    add_account(app.extensions["hotline"].redis)
    cookie = Console(app.test_client()).sign_in().headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_without_a_secret_key_the_console_is_off(voice_app, monkeypatch, caplog):
    monkeypatch.delenv("HOTLINE_SECRET_KEY", raising=False)
    monkeypatch.delenv("HOTLINE_DEVELOPMENT", raising=False)
    with caplog.at_level(logging.WARNING):
        va = voice_app(load_config(BRONDBY), at=AT)
    assert "HOTLINE_SECRET_KEY is not set" in caplog.text
    resp = va.client.get("/admin/login")
    assert resp.status_code == 503 and "HOTLINE_SECRET_KEY" in resp.get_data(as_text=True)


def test_in_development_a_random_key_is_used_and_said_loudly(voice_app, monkeypatch, caplog):
    monkeypatch.delenv("HOTLINE_SECRET_KEY", raising=False)
    monkeypatch.setenv("HOTLINE_DEVELOPMENT", "1")
    with caplog.at_level(logging.WARNING):
        va = voice_app(load_config(BRONDBY), at=AT)
    assert "random key" in caplog.text
    add_account(va.state.redis)
    assert Console(va.client).sign_in().status_code == 302


def test_audit_cli_lists_console_changes(console, monkeypatch, capsys, redis_url):
    c, va = console()
    c.sign_in()
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["audit", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries[0]["who"] == "ada" and entries[0]["action"] == "sign-in" and entries[0]["address"] == "192.0.2.10"
    assert main(["audit"]) == 0
    assert "sign-in" in capsys.readouterr().out


def test_a_forged_forwarded_for_header_does_not_escape_the_address_limit(console):
    c, _va = console()
    for i in range(signin_limit.MAX_PER_ADDRESS):
        c.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{i}"
        c.sign_in(f"user{i}", "not the password", address="198.51.100.7")
    c.client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.250"
    assert c.sign_in("ada", PASSWORD, address="198.51.100.7").status_code == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_it_saw(console, monkeypatch):
    monkeypatch.setenv("HOTLINE_PROXY_HOPS", "1")
    c, va = console()
    c.client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9, 192.0.2.77"  # forged, then the proxy's view
    c.sign_in()
    assert audit.entries(va.state.redis)[0]["address"] == "192.0.2.77"


def test_redis_down_gives_a_plain_503_not_a_traceback(console, redis_server):
    c, _va = console()
    page = c.get("/admin/login").get_data(as_text=True)
    redis_server.stop()
    try:
        resp = c.client.post("/admin/login", data={"user": "ada", "password": PASSWORD, "csrf_token": csrf_token(page)})
        assert resp.status_code == 503 and "Redis is unreachable" in resp.get_data(as_text=True)
    finally:
        redis_server.start()
