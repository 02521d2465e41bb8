"""Loading the example hotlines once for the table tests."""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from ivr.config import load_config
from ivr.hotline import Hotline
from ivr.menus.nav import walk
from routing import Decision, decide

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@functools.cache
def example(name: str) -> Hotline:
    """Return the one hotline in examples/<name>.yaml."""
    (hotline,) = load_config(EXAMPLES / f"{name}.yaml").lines()
    return hotline


def route(name: str, keys: str, local: str) -> Decision:
    """Return the decision for a call to example `name` after `keys` at local time `local`."""
    hotline = example(name)
    reached = walk(hotline.menu, keys.split(",") if keys else [])
    assert reached.service is not None and reached.error is None, reached.error
    at = dt.datetime.fromisoformat(local)
    if at.tzinfo is None:
        at = at.replace(tzinfo=hotline.tz)
    return decide(hotline.plan, reached.service, at)


def every_example_hotline() -> list[Hotline]:
    """Return the hotlines of every examples/*.yaml, in file name order."""
    return [hotline for path in sorted(EXAMPLES.glob("*.yaml")) for hotline in load_config(path).lines()]


def every_example_decision(moments):
    """Yield (hotline, service id, decision) for every service of every example at each moment."""
    for hotline in every_example_hotline():
        for service in hotline.plan.services:
            for at in moments:
                yield hotline, service, decide(hotline.plan, service, at)
