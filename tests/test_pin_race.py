"""The staff PIN lockout under real concurrency (threads against the app on a real Redis), and the
optional caller-ID attestation (Twilio's StirVerstat) for the staff entry."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from ivr.callsim import new_sid, sign
from ivr.outages import pins
from tests.support.voice import AUTH_TOKEN, BASE_URL, CALLER, config_from_text
from tests.test_outage_voice import PIN, STAFF_YAML

T0 = dt.datetime(2026, 11, 23, 8, 12, tzinfo=dt.timezone.utc)
LINE = "+4570112299"
ATTEMPTS_KEY = f"hotline:staff:attempts:{LINE}:{CALLER}"


@pytest.fixture(autouse=True)
def sender(monkeypatch, fake_twilio):
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+4570112230")


@pytest.fixture
def counted_checks(monkeypatch):
    """Count PIN hash checks; each takes 50 ms (the real hash takes longer) so requests overlap."""
    checked: list[str] = []
    lock = threading.Lock()
    real = pins.check_pin

    def check(pin: str, stored: str) -> bool:
        with lock:
            checked.append(pin)
        time.sleep(0.05)
        return real(pin, stored)

    monkeypatch.setattr(pins, "check_pin", check)
    return checked


def post_pins(va, digits: list[str]) -> list[str]:
    """Post each PIN from its own thread and call at once; return the answers' bodies."""
    barrier = threading.Barrier(len(digits))
    answers: list[str] = [""] * len(digits)
    path = "/voice/staff/pin?t=1"

    def one(i: int, pin: str) -> None:
        params = {"CallSid": new_sid(), "From": CALLER, "To": LINE, "Called": LINE, "Digits": pin}
        headers = {"X-Twilio-Signature": sign(AUTH_TOKEN, BASE_URL + path, params)}
        test_client = va.app.test_client()
        barrier.wait()
        resp = test_client.post(path, data=params, headers=headers)
        answers[i] = f"{resp.status_code} {resp.get_data(as_text=True)}"

    threads = [threading.Thread(target=one, args=(i, pin)) for i, pin in enumerate(digits)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


ACCEPTED = "Tryk 1 for at melde et nedbrud"
LOCKED = "For mange forkerte koder"


def test_forty_wrong_pins_at_once_check_no_more_than_the_limit(voice_app, counted_checks):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    answers = post_pins(va, [f"{1000 + i}" for i in range(40)])
    assert all(a.startswith("200 ") for a in answers)
    assert len(counted_checks) == 3, f"{len(counted_checks)} PINs were checked against the hash"
    assert va.state.redis.hget(ATTEMPTS_KEY, "fails") == "3"
    assert sum(LOCKED in a for a in answers) == 40 - 2   # all but the first two wrong ones hear "locked"
    # locked: even the right PIN is not checked now
    assert ACCEPTED not in post_pins(va, [PIN])[0] and len(counted_checks) == 3


@pytest.mark.parametrize("round_", range(5))
def test_seven_wrong_and_the_right_pin_at_once(voice_app, counted_checks, round_):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    digits = [f"{1000 + i}" for i in range(7)]
    digits.insert(round_, PIN)
    answers = post_pins(va, digits)
    assert len(counted_checks) <= 3, f"{len(counted_checks)} PINs were checked against the hash"
    accepted = [a for a in answers if ACCEPTED in a]
    fails = int(va.state.redis.hget(ATTEMPTS_KEY, "fails") or 0)
    if PIN in counted_checks:
        assert len(accepted) == 1 and fails <= 2   # within the limit: accepted, the lockout not reached
    else:
        assert accepted == [] and fails == 3       # the right PIN came after the limit: not even checked
    assert va.state.redis.hget(ATTEMPTS_KEY, "busy") in (None, "0")


def test_a_right_pin_after_wrong_ones_clears_them(voice_app):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    post_pins(va, ["1111"])
    post_pins(va, ["2222"])
    assert ACCEPTED in post_pins(va, [PIN])[0]
    assert va.state.redis.exists(ATTEMPTS_KEY) == 0


ATTESTED_YAML = STAFF_YAML.replace("    lockout_minutes: 15\n", "    lockout_minutes: 15\n    require_attestation: A\n")


def _staff_call(va, verstat: str | None, only_first: bool = False):
    call = va.call()
    plain = call._call_params
    if verstat is not None:
        call._call_params = lambda **extra: plain(StirVerstat=verstat, **extra)
    call.start()
    if only_first:
        call._call_params = plain
    call.press("2")
    return call, call.press("3")


@pytest.mark.parametrize("verstat", ["TN-Validation-Passed-A", "TN-Validation-Passed-B", "TN-Validation-Failed-A",
                                     "No-TN-Validation", None])
def test_require_attestation_a_admits_only_fully_attested_callers(voice_app, verstat):
    va = voice_app(config_from_text(ATTESTED_YAML), at=T0)
    _, turn = _staff_call(va, verstat)
    if verstat == "TN-Validation-Passed-A":
        assert turn.says == ["Indtast din kode, og afslut med firkant."]
    else:
        assert turn.says[0] == "Denne funktion er ikke tilgængelig." and turn.kind == "gather"


def test_the_attestation_of_the_first_webhook_is_kept_for_the_call(voice_app):
    va = voice_app(config_from_text(ATTESTED_YAML), at=T0)
    call, turn = _staff_call(va, "TN-Validation-Passed-A", only_first=True)
    assert turn.says == ["Indtast din kode, og afslut med firkant."]
    assert ACCEPTED in call.press(f"{PIN}#").says[0]


def test_without_the_setting_caller_id_alone_admits(voice_app):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    _, turn = _staff_call(va, "TN-Validation-Failed-A")
    assert turn.says == ["Indtast din kode, og afslut med firkant."]


def test_require_attestation_accepts_only_a():
    from ivr.config.errors import ConfigErrors

    with pytest.raises(ConfigErrors, match="require_attestation"):
        config_from_text(ATTESTED_YAML.replace("require_attestation: A", "require_attestation: B"))


@pytest.fixture
def slow_hash(monkeypatch):
    """The PIN hash takes longer than a webhook's Redis budget (as it may on a loaded machine)."""
    from ivr.calls import gate

    real = pins.check_pin

    def check(pin: str, stored: str) -> bool:
        time.sleep(gate.CALL_BUDGET + 0.3)
        return real(pin, stored)

    monkeypatch.setattr(pins, "check_pin", check)


def test_a_slow_pin_hash_still_gets_its_verdict_recorded(voice_app, slow_hash):
    va = voice_app(config_from_text(STAFF_YAML), at=T0)
    wrong = post_pins(va, ["1111"])[0]
    assert "For mange" not in wrong and "Forkert kode" in wrong, wrong
    assert va.state.redis.hgetall(ATTEMPTS_KEY) == {"busy": "0", "fails": "1"}
    assert ACCEPTED in post_pins(va, [PIN])[0]
    assert va.state.redis.exists(ATTEMPTS_KEY) == 0
