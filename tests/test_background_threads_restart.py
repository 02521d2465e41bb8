"""A webhook asks no thread whether it lives (Thread.is_alive() on every webhook cost more than the
rest of the check): the write-behind's flusher and the outage status copy's refresher clear their
owner's slot when they end, and the next use starts a new one. A loop that ends by a bug must not
leave events unwritten or the outage status frozen."""
from __future__ import annotations

import datetime as dt
import threading
import time

from ivr.calls import behind as behind_mod
from ivr.calls.behind import WriteBehind
from ivr.calls.events import event
from ivr.calls.journal import Journal
from ivr.outages import status_copy as status_mod
from ivr.outages.status_copy import OutageStatusCopy

T0 = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.timezone.utc)


def _until(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.01)


def _crashing_once(monkeypatch, module, name):
    real = getattr(module, name)
    crashed = threading.Event()

    def crash(*args):
        monkeypatch.setattr(module, name, real)
        crashed.set()
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(module, name, crash)
    return crashed


def test_a_flusher_that_ended_is_replaced_by_the_next_webhook(tmp_path, monkeypatch):
    written: list[str] = []
    wb = WriteBehind(lambda items, texts: written.extend(ev["id"] for ev, _, _ in items), Journal(tmp_path / "j"))
    crashed = _crashing_once(monkeypatch, behind_mod, "_flush_while_owned")
    first = event("CA" + "1" * 32, "+4570112230", "key", "key:1", T0)
    wb.submit([(first, 3, None)])
    assert crashed.wait(10)
    _until(lambda: wb._thread is None)    # the ending thread cleared its slot
    assert wb.waiting() == 1              # its event waits, journaled
    second = event("CA" + "1" * 32, "+4570112230", "key", "key:2", T0)
    wb.submit([(second, 3, None)])        # starts a new flusher, which writes both
    assert wb.settle(10)
    assert written == [first["id"], second["id"]]
    assert wb._thread is not None and wb._thread.is_alive()


class _Outages:
    """Stands in for the Redis client: the copy only checks it is there (its refresh is patched)."""


def test_an_outage_status_refresher_that_ended_is_replaced_by_the_next_read(monkeypatch):
    refreshes = []
    monkeypatch.setattr(OutageStatusCopy, "refresh", lambda self: refreshes.append(1) or True)
    crashed = _crashing_once(monkeypatch, status_mod, "_refresh")
    hotline = type("H", (), {"line": "+4570112230", "systems": {"nexus": "Nexus"}})()
    copy = OutageStatusCopy(_Outages(), lambda: [hotline], every=0.01, first_wait=0.0)
    copy.open_outages(hotline)
    assert crashed.wait(10)
    _until(lambda: copy._thread is None)
    assert refreshes == []
    copy.open_outages(hotline)            # starts a new refresher
    _until(lambda: len(refreshes) >= 2)
    assert copy._thread is not None and copy._thread.is_alive()
    copy.redis = None   # the thread outlives the patch until the copy is gone: nothing to refresh then
