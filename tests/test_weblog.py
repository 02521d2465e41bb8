"""One log line per webhook: call SID, line, endpoint, status, duration; numbers masked."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings, strategies as st

from ivr.weblog import WebhookLog, mask
from tests.support.voice import CALLER

AT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone.utc)


def webhook_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("webhook ", '{"event":"webhook"'))]


@pytest.mark.parametrize("number, masked", [
    ("+4534412350", "+*******350"),
    ("+46104550001", "+********001"),
    ("12", "12"),
    ("", ""),
    (None, None),
])
def test_mask_keeps_only_the_last_digits(number, masked):
    assert mask(number) == masked


def test_json_lines_one_per_webhook_with_the_caller_masked(voice_app, monkeypatch, capsys):
    monkeypatch.setenv("HOTLINE_LOG_FORMAT", "json")
    va = voice_app(at=AT)
    line = va.config.lines()[0].line
    capsys.readouterr()
    call = va.call(line)
    call.start()
    call.press("1")
    call.ring("accept")
    call.hang_up()
    logged = [json.loads(x) for x in webhook_lines(capsys.readouterr().err)]

    own = [x for x in logged if x["call_sid"] == call.sid]
    assert [x["endpoint"] for x in own] == ["/voice", "/voice/menu", "/voice/dial", "/voice/status"]
    for entry in own:
        assert entry["line"] == line and entry["status"] == 200
        assert entry["caller"] == "+*******350" and CALLER not in json.dumps(entry)
        assert isinstance(entry["duration_ms"], float) and 0 <= entry["duration_ms"] < 10_000


def test_a_callee_leg_names_the_line_and_masks_the_callee():
    log = WebhookLog(json_format=True, lines=lambda: ["+4570112230"])
    form = {"CallSid": "CA" + "1" * 32, "From": "+4570112230", "To": "+4534412345"}
    fields = log.fields(form, "/voice/screen", 200, 0.0042)
    assert fields == {"event": "webhook", "endpoint": "/voice/screen", "status": 200, "duration_ms": 4.2,
                      "call_sid": "CA" + "1" * 32, "line": "+4570112230", "to": "+*******345"}


def test_text_lines_and_full_numbers_when_an_admin_asks(voice_app, monkeypatch, capsys):
    monkeypatch.delenv("HOTLINE_LOG_FORMAT", raising=False)
    monkeypatch.setenv("HOTLINE_LOG_FULL_NUMBERS", "1")
    va = voice_app(at=AT)
    capsys.readouterr()
    call = va.call()
    call.start()
    (only,) = [x for x in webhook_lines(capsys.readouterr().err) if call.sid in x]
    assert only.startswith("webhook endpoint=/voice status=200 duration_ms=")
    assert f" call_sid={call.sid} line={va.config.lines()[0].line} caller={CALLER}" in only


def test_a_child_forked_while_a_line_is_being_written_can_write_its_own():
    import os

    from ivr import weblog

    with weblog._stderr.lock:                # another thread is in the middle of a line
        pid = os.fork()
        if pid == 0:                         # the child: its first line must not wait forever
            try:
                acquired = weblog._stderr.lock.acquire(timeout=2)
            finally:
                os._exit(0 if acquired else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("number", ["+4534412350", "+46104550001", "anonymous", "+266696687", "client:alice",
                                    "+45 34 41 23 50", "12", "1", "x" * 40, "+" + "4" * 40, "+４５３４４１２３５０"])
def test_kept_masks_equal_fresh_ones(number):
    from ivr import weblog

    weblog._masked.cache_clear()
    assert mask(number) == weblog._mask(number) == mask(number)   # the second from what was kept
    assert mask(number, 5) == weblog._mask(number, 5)
    assert weblog._masked.cache_info().currsize == (1 if len(number) <= weblog.MASKED_LENGTH else 0)


def test_a_text_line_has_every_field_but_the_event_in_order(capsys):
    from types import SimpleNamespace

    log = WebhookLog(lines=lambda: {"+4570112230"})
    form = {"CallSid": "CA" + "1" * 32, "From": "+4534412350", "To": "+4570112230", "MessageSid": "SM1"}
    log.line(SimpleNamespace(form=form), "/voice/status", 200, 0.01234)
    assert capsys.readouterr().err == ("webhook endpoint=/voice/status status=200 duration_ms=12.3 call_sid=CA"
                                       + "1" * 32 + " line=+4570112230 message_sid=SM1 caller=+*******350\n")


numbers = st.one_of(st.none(), st.just(""), st.sampled_from(["+4570112230", "+4534412350", "+46104550001", "12"]),
                    st.text(max_size=12))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={"CallSid": numbers, "From": numbers, "To": numbers, "MessageSid": numbers}),
       st.sampled_from(["/voice", "/voice/status", "other"]), st.sampled_from([200, 403, 500]),
       st.floats(min_value=0, max_value=100), st.booleans(), st.sampled_from([set(), {"+4570112230"}]))
def test_the_text_line_is_the_fields_written_as_name_value(form, endpoint, status, seconds, full, ours):
    form = {k: v for k, v in form.items() if v is not None}
    log = WebhookLog(full_numbers=full, lines=lambda: ours)
    fields = log.fields(form, endpoint, status, seconds)
    del fields["event"]
    assert log.text(form, endpoint, status, seconds) == "webhook " + " ".join(
        f"{k}={'-' if v is None else v}" for k, v in fields.items())
