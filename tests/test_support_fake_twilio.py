"""Tests for tests/support/fake_twilio.py, its spec checks and the fake_twilio fixture."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.conftest import needs_twilio_spec, spec_missing
from tests.support.fake_twilio import TEST_MESSAGING_SERVICE_SID, FakeTwilio
from tests.support.twilio_client import client_for
from tests.support.twilio_spec import SPEC_ENV, load_validator

SITE = "+4520304050"
LINE = "+4570203040"


@pytest.fixture
def client(fake_twilio):
    return client_for(fake_twilio)


@pytest.fixture
def lax_fake():
    """A fake whose violations the test inspects itself (no teardown check)."""
    if spec_missing():
        pytest.skip(spec_missing())
    with FakeTwilio() as server:
        yield server


def post(fake: FakeTwilio, resource: str, data, auth=None):
    """POST form ``data`` to ``resource`` (e.g. "Messages.json") of the fake's account."""
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/{resource}"
    return requests.post(url, data=data, auth=auth or (fake.account_sid, fake.auth_token), timeout=10)


# -- the happy path through the official client ------------------------------------


def test_official_client_sends_a_message_that_is_recorded(fake_twilio, client):
    before = time.monotonic()
    message = client.messages.create(
        to=SITE, from_=LINE, body="IT is down", status_callback="https://hotline.example.org/sms/status"
    )

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.to, message.from_, message.body) == ("queued", SITE, LINE, "IT is down")
    [recorded] = fake_twilio.messages
    assert recorded["sid"] == message.sid
    assert (recorded["to"], recorded["from"], recorded["body"]) == (SITE, LINE, "IT is down")
    assert recorded["status_callback"] == "https://hotline.example.org/sms/status"
    assert recorded["messaging_service_sid"] is None
    assert before <= recorded["received_at"] <= time.monotonic()


def test_fetch_returns_the_stored_message_and_its_updated_status(fake_twilio, client):
    sid = client.messages.create(to=SITE, messaging_service_sid=TEST_MESSAGING_SERVICE_SID, body="x").sid
    fake_twilio.set_status(sid, "delivered")

    fetched = client.messages(sid).fetch()

    assert (fetched.sid, fetched.status, fetched.from_) == (sid, "delivered", None)
    assert fetched.messaging_service_sid == TEST_MESSAGING_SERVICE_SID
    assert fake_twilio.messages[0]["messaging_service_sid"] == TEST_MESSAGING_SERVICE_SID


def test_fetching_an_unknown_message_is_404_but_not_a_violation(fake_twilio, client):
    with pytest.raises(TwilioRestException) as caught:
        client.messages("SM" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)
    assert fake_twilio.violations == []


def test_official_client_places_a_call(fake_twilio, client):
    call = client.calls.create(to=SITE, from_=LINE, twiml="<Response><Say>Outage</Say></Response>")

    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    assert call.status == "queued"
    recorded = [(c["sid"], c["to"], c["twiml"]) for c in fake_twilio.calls]
    assert recorded == [(call.sid, SITE, "<Response><Say>Outage</Say></Response>")]
    assert client.calls(call.sid).fetch().to == SITE


def test_wait_for_messages_sees_a_message_sent_from_another_thread(fake_twilio, client):
    sender = threading.Timer(0.1, lambda: client.messages.create(to=SITE, from_=LINE, body="late"))
    sender.start()
    try:
        assert [m["body"] for m in fake_twilio.wait_for_messages(1, timeout=5)] == ["late"]
    finally:
        sender.join()
    with pytest.raises(AssertionError, match="expected 2 messages"):
        fake_twilio.wait_for_messages(2, timeout=0.1)


# -- spec violations ------------------------------------------------------------------


def test_message_without_to_is_rejected_and_recorded(lax_fake):
    response = post(lax_fake, "Messages.json", {"From": LINE, "Body": "x"})

    assert response.status_code == 400
    assert response.json()["code"] == 21604
    assert "'To'" in response.json()["message"]
    assert lax_fake.messages == []
    [violation] = lax_fake.violations
    assert violation.method == "POST" and "required parameter 'To'" in str(violation)
    with pytest.raises(AssertionError, match="1 request"):
        lax_fake.assert_no_violations()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"To": SITE, "Body": "x"}, "one of From, MessagingServiceSid"),
        ({"To": SITE, "From": LINE}, "one of Body, MediaUrl, ContentSid"),
        ({"To": "20304050", "From": LINE, "Body": "x"}, "parameter To='20304050'"),
        ({"To": SITE, "From": LINE, "Body": "x", "StatusCallback": "/sms/status"}, "not an absolute http"),
        ({"To": SITE, "From": LINE, "Body": "x", "StatusCallbackUrl": "https://a.example"},
         "unknown parameter 'StatusCallbackUrl'"),
        ({"To": SITE, "MessagingServiceSid": "MG123", "Body": "x"}, "MessagingServiceSid"),
        ({"To": SITE, "From": LINE, "Body": "x", "ValidityPeriod": "soon"}, "not an integer"),
        ({"To": [SITE, "+4520304051"], "From": LINE, "Body": "x"}, "given 2 times"),
    ],
)
def test_bad_message_parameters_are_violations(lax_fake, data, expected):
    response = post(lax_fake, "Messages.json", data)

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert len(lax_fake.violations) == 1 and lax_fake.messages == []


def test_call_without_instructions_is_a_violation(lax_fake):
    response = post(lax_fake, "Calls.json", {"To": SITE, "From": LINE})

    assert response.status_code == 400
    assert "one of Url, Twiml, ApplicationSid" in response.json()["message"]
    assert lax_fake.calls == [] and len(lax_fake.violations) == 1


def test_unknown_path_and_wrong_method_are_violations(lax_fake):
    auth = (lax_fake.account_sid, lax_fake.auth_token)
    base = f"{lax_fake.base_url}/2010-04-01/Accounts/{lax_fake.account_sid}"

    unknown = requests.post(f"{base}/Sms/Messages.json", data={"To": SITE}, auth=auth, timeout=10)
    wrong_method = requests.put(f"{base}/Messages.json", data={"To": SITE}, auth=auth, timeout=10)

    assert (unknown.status_code, unknown.json()["code"]) == (404, 20404)
    assert wrong_method.status_code == 405
    assert [v.method for v in lax_fake.violations] == ["POST", "PUT"]
    assert "not a path in the Twilio spec" in lax_fake.violations[0].problems[0]


def test_spec_operations_the_fake_does_not_serve_are_flagged(lax_fake):
    response = requests.get(f"{lax_fake.base_url}/2010-04-01/Accounts/{lax_fake.account_sid}/Calls.json",
                            auth=(lax_fake.account_sid, lax_fake.auth_token), timeout=10)

    assert response.status_code == 501
    assert "ListCall" in str(lax_fake.violations[0])


def test_fixture_collects_violations_for_its_teardown_check(fake_twilio):
    post(fake_twilio, "Messages.json", {"From": LINE, "Body": "x"})
    with pytest.raises(AssertionError, match="broke the spec"):
        fake_twilio.assert_no_violations()
    fake_twilio.violations.clear()  # or this test would fail at teardown, as intended


# -- auth, faults, delay --------------------------------------------------------------


def test_wrong_credentials_get_401_and_nothing_is_sent(fake_twilio):
    data = {"To": SITE, "From": LINE, "Body": "x"}
    response = post(fake_twilio, "Messages.json", data, auth=(fake_twilio.account_sid, "nope"))

    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert fake_twilio.messages == []


def test_fail_next_answers_429_then_recovers(fake_twilio, client):
    fake_twilio.fail_next(2, retry_after=1)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to=SITE, from_=LINE, body="x")
        assert (caught.value.status, caught.value.code) == (429, 20429)
    client.messages.create(to=SITE, from_=LINE, body="x")

    assert [r["status"] for r in fake_twilio.requests] == [429, 429, 201]
    assert len(fake_twilio.messages) == 1


def test_fail_next_can_target_one_operation(fake_twilio, client):
    fake_twilio.fail_next(1, status=503, code=20503, operation="CreateCall")

    client.messages.create(to=SITE, from_=LINE, body="x")
    with pytest.raises(TwilioRestException) as caught:
        client.calls.create(to=SITE, from_=LINE, url="https://hotline.example.org/voice")

    assert caught.value.status == 503
    assert len(fake_twilio.messages) == 1 and fake_twilio.calls == []


def test_fail_for_rejects_one_number_every_time(fake_twilio, client):
    fake_twilio.fail_for(SITE, code=21610)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to=SITE, from_=LINE, body="x")
        assert (caught.value.status, caught.value.code) == (400, 21610)
    client.messages.create(to="+4520304051", from_=LINE, body="x")

    assert [m["to"] for m in fake_twilio.messages] == ["+4520304051"]


def test_delay_slows_every_request(fake_twilio, client):
    fake_twilio.delay = 0.3
    started = time.monotonic()
    client.messages.create(to=SITE, from_=LINE, body="x")
    assert time.monotonic() - started >= 0.3


# -- the spec file --------------------------------------------------------------------


def test_spec_location_can_be_overridden(tmp_path, monkeypatch):
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(FileNotFoundError, match=SPEC_ENV):
        load_validator()

    tiny = tmp_path / "tiny.yaml"
    tiny.write_text("openapi: 3.0.1\npaths:\n  /ping.json:\n    get:\n      operationId: Ping\n")
    monkeypatch.setenv(SPEC_ENV, str(tiny))
    validator = load_validator()
    assert validator.validate("GET", "/ping.json", {}, {}, None)[0].operation_id == "Ping"
    assert validator.validate("GET", "/pong.json", {}, {}, None)[0] is None


@needs_twilio_spec
def test_the_real_spec_is_parsed_once():
    assert load_validator() is load_validator()


@needs_twilio_spec
def test_fixture_fails_the_test_at_teardown_on_a_violation(pytester):
    pytester.makeconftest("from tests.conftest import fake_twilio  # noqa: F401\n")
    pytester.makepyfile(
        """
        import requests

        def test_sends_garbage(fake_twilio):
            requests.post(fake_twilio.base_url + "/nowhere.json", data={"To": "x"}, timeout=10)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*broke the spec*", "*/nowhere.json*"])


def test_a_request_cut_off_before_its_body_arrived_is_not_handled(fake_twilio):
    """A sender killed between the headers and the body (urllib3 sends them separately) leaves a
    short request; like any HTTP server (and Twilio), the fake drops it: no message, no violation."""
    import base64
    import socket

    path = f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    auth = base64.b64encode(f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode()).decode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60\r\n\r\nTo=%2B4520304050")
    with socket.create_connection(("127.0.0.1", fake_twilio.port), timeout=5) as sock:
        sock.sendall(head.encode())
        sock.shutdown(socket.SHUT_WR)  # the sender dies: the body never arrives
        assert sock.recv(1024) == b""  # closed without an answer
    time.sleep(0.2)
    assert fake_twilio.requests == [] and fake_twilio.messages == [] and fake_twilio.violations == []


def test_without_the_spec_the_tests_that_need_it_are_skipped_saying_where_it_was_looked_for(pytester, tmp_path,
                                                                                            monkeypatch):
    missing = tmp_path / "shared" / "twilio" / "twilio_api_v2010.yaml"
    monkeypatch.setenv(SPEC_ENV, str(missing))
    pytester.makeconftest("from tests.conftest import fake_twilio, pytest_report_header, "
                          "pytest_terminal_summary  # noqa: F401\n")
    pytester.makepyfile(
        """
        def test_needs_twilio(fake_twilio):
            pass

        def test_does_not():
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([f"*Twilio's OpenAPI description not found at {missing}*",
                                 "*1 test that needs the Twilio stand-in was skipped*"])
