"""`hotline purge --number` and incidents: a caller's incidents lose the number, a paged person's
number leaves the incidents, the SMS blasts and the record of who was paged (real Redis)."""
from __future__ import annotations

import pytest
import redis

from ivr.cli import main
from ivr.incidents import paging, service
from ivr.incidents.jobs import settle_call, snapshot
from ivr.incidents.store import IncidentStore
from ivr.privacy.purge import find
from tests.incident_helpers import OFFICE, TECH1, TECH2, missed_into_voicemail, notify_config
from tests.support.voice import BASE_URL

LINE, CALLER = "+4570112299", "+4534412350"


@pytest.fixture
def paged(voice_app, redis_url, monkeypatch, tmp_path):
    """Incident 1 (CALLER's missed call) paged tech1 and tech2; tech1 acknowledged it by SMS."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LINE)
    app = voice_app(notify_config(), at=OFFICE)
    call = missed_into_voicemail(app, caller=CALLER)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    settle_call(r, snapshot(app.config.lines()[0], call.caller, BASE_URL), call.sid, OFFICE)
    assert paging.page(LINE, 1, 0) == "sent"
    assert service.acknowledge(r, LINE, 1, TECH1, OFFICE, by_number=TECH1).status == "ok"
    return r


def _incident_text(r) -> str:
    return str(r.hgetall(f"hotline:incident:{LINE}:1")) + str(r.lrange(f"hotline:incident:{LINE}:1:history", 0, -1))


def test_purging_a_caller_masks_the_caller_of_their_incidents(paged, capsys):
    assert IncidentStore(paged).get(LINE, 1)["from"] == CALLER
    assert main(["purge", "--number", CALLER, "--dry-run"]) == 0
    assert "    1  incidents naming it" in capsys.readouterr().out
    assert main(["purge", "--number", CALLER, "--yes"]) == 0
    incident = IncidentStore(paged).get(LINE, 1)
    assert incident["from"] == "(purged)" and incident["state"] == "acknowledged"   # the incident stays
    assert CALLER not in _incident_text(paged)
    assert find(paged, CALLER).counts() == dict.fromkeys(find(paged, CALLER).counts(), 0)


def test_purging_a_paged_person_removes_them_from_incidents_blasts_and_who_was_paged(paged, capsys):
    assert paged.exists(f"hotline:notified:{TECH1}")
    assert TECH1 in _incident_text(paged)                                  # acknowledged_by, history
    assert main(["purge", "--number", TECH1, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "    1  incidents naming it" in out and "    1  paged-number records" in out
    assert not paged.exists(f"hotline:notified:{TECH1}")
    assert TECH1 not in _incident_text(paged)
    assert IncidentStore(paged).get(LINE, 1)["acknowledged_by"] == "(purged)"
    bid = paging.blast_id(LINE, 1, "r0")
    assert paged.lrange(f"hotline:blast:{bid}:to", 0, -1) == [TECH2]       # the notification blast
    assert not paged.exists(f"hotline:blast:{bid}:to:{TECH1}")
    assert paged.exists(f"hotline:notified:{TECH2}")                       # someone else's stays
    assert find(paged, TECH1).counts() == dict.fromkeys(find(paged, TECH1).counts(), 0)
