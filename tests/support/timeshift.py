"""Move the wall clock of every Python process forward by a fixed offset, to run the suite at another moment.

`./dev test-at MOMENT` installs a one-line `.pth` file in the venv that runs this file at interpreter
start whenever HOTLINE_TIME_OFFSET (seconds, >= 0) is set, so pytest and every process it starts
(gunicorn, `hotline serve`, `hotline worker`) agree on the moved clock. Shifted: `time.time`,
`time.time_ns`, `datetime.datetime.now/utcnow/today` and `datetime.date.today`. Not shifted:
monotonic clocks (timeouts stay real) and redis-server, whose expiries run on the real clock; that
is why only forward offsets are accepted.

libfaketime is no option here: it makes redis-server fail to start and hangs Python's condition waits.
"""
from __future__ import annotations

import datetime as _dt
import os
import time as _time

ENV = "HOTLINE_TIME_OFFSET"


def _offset() -> float:
    """Return the offset in seconds from the environment; raises ValueError for a negative one."""
    offset = float(os.environ.get(ENV) or 0)
    if offset < 0:
        raise ValueError(f"{ENV} must not be negative (Redis expiries run on the real clock)")
    return offset


def install(offset: float) -> None:
    """Shift this interpreter's wall clock forward by `offset` seconds (once: later calls do nothing)."""
    if getattr(_time, "hotline_time_offset", None) is not None:
        return
    _time.hotline_time_offset = offset
    real_time, real_time_ns = _time.time, _time.time_ns
    real_datetime, real_date = _dt.datetime, _dt.date
    offset_ns = int(offset * 1_000_000_000)
    delta = _dt.timedelta(seconds=offset)

    def time() -> float:
        return real_time() + offset

    def time_ns() -> int:
        return real_time_ns() + offset_ns

    class _DatetimeMeta(type(real_datetime)):
        def __instancecheck__(cls, obj):
            return isinstance(obj, real_datetime)

        def __subclasscheck__(cls, sub):
            return issubclass(sub, real_datetime)

    class _DateMeta(type(real_date)):
        def __instancecheck__(cls, obj):
            return isinstance(obj, real_date)

        def __subclasscheck__(cls, sub):
            return issubclass(sub, real_date)

    class date(real_date, metaclass=_DateMeta):
        @classmethod
        def today(cls):
            moved = real_datetime.now() + delta
            return real_date(moved.year, moved.month, moved.day)

    class datetime(real_datetime, metaclass=_DatetimeMeta):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.now(tz) + delta

        @classmethod
        def utcnow(cls):
            return real_datetime.utcnow() + delta

        @classmethod
        def today(cls):
            return real_datetime.today() + delta

    for fake in (date, datetime):
        fake.__module__ = "datetime"
    date.__name__ = date.__qualname__ = "date"
    datetime.__name__ = datetime.__qualname__ = "datetime"
    _time.time, _time.time_ns = time, time_ns
    _dt.datetime, _dt.date = datetime, date


if os.environ.get(ENV):
    install(_offset())
