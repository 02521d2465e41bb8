"""How long incident data is kept: the incidents index and its set of lines, the alert's blast list
and the SMS blasts that page people all expire (real redis-server; moments passed in, expiry read
from the TTLs Redis reports).
"""
from __future__ import annotations

import pytest

from ivr.incidents import paging
from ivr.incidents.store import DAY, IncidentStore
from tests.incident_helpers import OFFICE, TECH1, paged_missed_call
from tests.sms_helpers import client

LINE = "+4570112299"
KEPT = 3 * DAY  # the test hotline's call_log_days


@pytest.fixture
def paged(voice_app, redis_url, monkeypatch):
    """Incident 1 (a missed call) has paged tech1 and tech2 once."""
    return paged_missed_call(voice_app, redis_url, monkeypatch, LINE)[1]


def _kept(r, key: str) -> bool:
    return KEPT - 60 < r.ttl(key) <= KEPT


def test_the_incidents_index_and_the_set_of_lines_expire(paged):
    assert _kept(paged, f"hotline:incidents:{LINE}")
    assert _kept(paged, "hotline:incidents:lines")


def test_a_line_with_a_longer_retention_keeps_the_set_of_lines_alive(redis_url):
    store = IncidentStore(client(redis_url))
    store.open("+4570112230", "CA" + "1" * 32, {"state": "answered"}, OFFICE, 400)
    store.open(LINE, "CA" + "2" * 32, {"state": "answered"}, OFFICE, 3)
    assert store.redis.ttl("hotline:incidents:lines") > 399 * DAY     # not shortened by the 3-day line
    assert _kept(store.redis, f"hotline:incidents:{LINE}")


def test_the_alerts_blast_list_expires_with_the_alert(paged):
    assert _kept(paged, f"hotline:alert:{LINE}:1")
    assert _kept(paged, f"hotline:alert:{LINE}:1:blasts")


def test_the_paging_blast_and_its_recipients_expire_with_the_alert(paged):
    bid = paging.blast_id(LINE, 1, "r0")
    for key in (f"hotline:blast:{bid}", f"hotline:blast:{bid}:to", f"hotline:blast:{bid}:to:{TECH1}"):
        assert _kept(paged, key), key


def test_the_taken_message_expires_with_the_alert_too(paged):
    from ivr.incidents import service

    assert service.acknowledge(paged, LINE, 1, "Anna", OFFICE).status == "ok"
    bid = paging.blast_id(LINE, 1, "taken")
    assert paged.exists(f"hotline:blast:{bid}")
    assert _kept(paged, f"hotline:blast:{bid}")
    assert _kept(paged, f"hotline:blast:{bid}:to")
