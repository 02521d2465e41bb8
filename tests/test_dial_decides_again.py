"""A dial result decides its chain again instead of reading the call log while the config is the
one the chain was decided under (its version travels in the dial URL with the moment, cut to whole
seconds): the same chain as the frozen one, at every change of every example's schedules, over a
spring and an autumn clock change and the holidays around them."""
from __future__ import annotations

import datetime as dt

from ivr.calls.chain import chain_from_decision, chain_from_dict
from ivr.config.load import load_config
from ivr.voice.flow import epoch, moment_of
from routing import decide
from tests.support.voice import EXAMPLES, TEST_YAML, config_from_text

UTC = dt.timezone.utc
SPANS = [(dt.datetime(2027, 3, 24, tzinfo=UTC), dt.datetime(2027, 4, 2, tzinfo=UTC)),     # spring change, Easter
         (dt.datetime(2026, 10, 22, tzinfo=UTC), dt.datetime(2026, 11, 3, tzinfo=UTC)),   # autumn change, All Saints
         (dt.datetime(2026, 12, 22, tzinfo=UTC), dt.datetime(2027, 1, 2, tzinfo=UTC))]    # Christmas, New Year
OFFSETS = [dt.timedelta(microseconds=-1), dt.timedelta(0), dt.timedelta(milliseconds=999),
           dt.timedelta(seconds=-59, microseconds=-1)]


def _edges(plan, service: str, start: dt.datetime, end: dt.datetime):
    """Yield every moment in [start, end) where the service's decision may change."""
    at = start
    while at < end:
        change = decide(plan, service, at).next_change
        if change is None or change >= end:
            return
        yield change
        at = change


def test_deciding_again_at_the_whole_second_gives_the_frozen_chain_at_every_change():
    edges = 0
    for path in EXAMPLES:
        for hotline in load_config(path).lines():
            for service in hotline.plan.services:
                for start, end in SPANS:
                    for edge in _edges(hotline.plan, service, start, end):
                        edges += 1
                        for offset in OFFSETS:
                            moment = edge + offset
                            frozen = chain_from_dict(decide(hotline.plan, service, moment).to_dict())
                            from_url = moment_of(str(epoch(moment)), moment)
                            assert chain_from_decision(decide(hotline.plan, service, from_url)) == frozen, (
                                path.stem, service, moment.isoformat())
    assert edges > 100   # the examples' schedules do change in these spans


def test_a_dial_result_reads_the_frozen_chain_once_the_config_changed(voice_app):
    # The dial URL carries the version; a config reloaded since then (another version) is not used.
    cfg = config_from_text(TEST_YAML)
    at = dt.datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # evening: the on-call chain
    va = voice_app(cfg, at=at)
    call = va.call()
    call.start()
    first = call.press("1")
    assert f"v={cfg.version}" in first.action
    changed = config_from_text(TEST_YAML.replace('call: [tech2, duty], timeout: 40', 'call: [desk], timeout: 40'))
    va.state.config = changed
    same_config = call.ring("no-answer")
    assert [n for n, _ in same_config.numbers] == ["+4534412363", "+4534412361"]   # as frozen, not the desk
    assert f"v={cfg.version}" in same_config.action


def test_a_dial_result_under_the_same_config_does_not_read_the_log_when_nobody_answered(voice_app, monkeypatch):
    from ivr.calls.store import CallStore

    cfg = config_from_text(TEST_YAML)
    va = voice_app(cfg, at=dt.datetime(2026, 11, 23, 21, 0, tzinfo=UTC))
    call = va.call()
    call.start()
    call.press("1")
    reads = []
    original = CallStore.events
    monkeypatch.setattr(CallStore, "events", lambda self, sid: reads.append(sid) or original(self, sid))
    turn = call.ring("no-answer")
    assert reads == [] and [n for n, _ in turn.numbers] == ["+4534412363", "+4534412361"]
