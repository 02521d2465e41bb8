"""Values worked out once per live object (a hotline, a menu node) and kept while it lives.

Config objects are frozen and a reload makes new ones, so a value kept for some objects is only
given back for those very objects: the store is keyed by their ids, and a hit counts only when
its references still lead to the same objects (an id is reused only once its object is gone).
The references are weak, so they do not keep an old config in memory, except to objects that
cannot be referred to weakly (tuples, such as a target's steps): those are held until the store
starts again. At most `limit` values are kept; then the store starts again.
"""
from __future__ import annotations

import weakref
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class KeptPerObject:
    """A bounded store of values per (key, objects); see the module docstring."""

    def __init__(self, limit: int):
        self.limit = limit
        self._kept: dict[tuple, tuple[tuple[weakref.ref, ...], object]] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: Hashable, make: Callable[[], T], *owners: object) -> T:
        """Return the value kept for `key` and the objects `owners`, else make() (then kept)."""
        full = (key, *map(id, owners))
        hit = self._kept.get(full)
        if hit is not None:
            for ref, owner in zip(hit[0], owners):   # a loop, not all() over a generator: a hit
                if ref() is not owner:               # is the common case, on every webhook
                    break
            else:
                return hit[1]
        value = make()
        if len(self._kept) >= self.limit:
            self._kept.clear()
        self._kept[full] = (tuple(map(_ref, owners)), value)
        return value


def _ref(owner: object) -> Callable[[], object]:
    """Return a weak reference to `owner`, or, for an object without one (a tuple), a call that
    gives it back (holding it)."""
    try:
        return weakref.ref(owner)
    except TypeError:
        return lambda: owner
