"""A create request that timed out may still be created at Twilio later: the worker must not
search (and then send again) before such a late create can have shown up in the list."""
from __future__ import annotations

import threading
import time

from ivr.sms.blast import BlastStore
from ivr.sms.jobs import claimable
from ivr.sms.ratelimit import RateLimiter
from ivr.sms.sender import Delivered, deliver
from ivr.sms.settings import SmsSettings
from ivr.sms.twilio_rest import client_from_env
from tests.sms_helpers import client, make_blast, numbers, per_recipient
from tests.support.rq_workers import wait_until


def test_a_timed_out_create_that_twilio_makes_later_is_adopted_not_sent_again(redis_url, fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake_twilio.base_url)
    twilio = client_from_env(timeout=0.3)
    real_handle, slow = fake_twilio.handle, threading.Event()
    slow.set()

    def handle(method, raw_path, headers, body):
        if slow.is_set() and method == "POST" and raw_path.endswith("/Messages.json"):
            time.sleep(1.0)  # Twilio is slow: it creates the message after the client gave up
        return real_handle(method, raw_path, headers, body)

    fake_twilio.handle = handle
    store = BlastStore(client(redis_url))
    blast, (number,) = make_blast("slow", 1), numbers(1)
    store.create(blast, [number])
    settings = SmsSettings(lease=5, backoff=0.01, backoff_cap=0.05, doubt_settle=3)
    limiter = RateLimiter(store.redis, blast.sender, 100)

    assert deliver(store, twilio, blast, number, limiter, settings) is Delivered.RELEASED
    assert claimable(store, "slow") == []  # not searched for (nor sent to) during the settle time
    fake_twilio.wait_for_messages(1, timeout=10)  # the late create lands...
    wait_until(lambda: claimable(store, "slow") == [number], 10, message="settle time over")  # ...then we look
    slow.clear()
    assert deliver(store, twilio, blast, number, limiter, settings) is Delivered.FOUND
    assert per_recipient(fake_twilio) == {number: 1}
    assert store.recipient("slow", number)["sid"] == fake_twilio.messages[0]["sid"]


def test_a_worker_that_waited_past_its_lease_for_a_rate_slot_does_not_send(redis_url, fake_twilio, monkeypatch):
    """A long rate wait (a 429 paused the sender) outlived the lease; another worker took the
    recipient over, looked, found nothing and sent. The first must not send when its slot comes."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake_twilio.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", fake_twilio.auth_token)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake_twilio.base_url)
    twilio = client_from_env()
    store = BlastStore(client(redis_url))
    blast, (number,) = make_blast("wait", 1), numbers(1)
    store.create(blast, [number])
    settings = SmsSettings(lease=0.3, backoff=0.01, backoff_cap=0.05)
    limiter = RateLimiter(store.redis, blast.sender, 100)
    limiter.pause(1.5)  # every worker on this sender waits (a 429 elsewhere)
    second = {}

    def other_worker():
        time.sleep(0.8)  # the first worker's lease ran out while it waited for its slot
        free = RateLimiter(store.redis, "another sender", 100)
        second["did"] = deliver(store, client_from_env(), blast, number, free, settings)

    thread = threading.Thread(target=other_worker)
    thread.start()
    first = deliver(store, twilio, blast, number, limiter, settings)
    thread.join()
    assert per_recipient(fake_twilio) == {number: 1}, (first, second)
