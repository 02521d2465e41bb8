"""ivr.kept: a value is given back only for the very objects it was made for, never keeps them
alive, and the store is bounded."""
from __future__ import annotations

import gc
import weakref

from ivr.kept import KeptPerObject


class Thing:
    pass


def test_a_value_is_made_once_per_key_and_objects():
    kept, made = KeptPerObject(10), []
    a, b = Thing(), Thing()
    make = lambda name: (lambda: made.append(name) or name)  # noqa: E731
    assert kept.get("k", make("a"), a) == "a" and kept.get("k", make("again"), a) == "a"
    assert kept.get("k", make("b"), b) == "b" and kept.get("other", make("a2"), a) == "a2"
    assert kept.get("k", make("ab"), a, b) == "ab" and kept.get("k", make("ba"), b, a) == "ba"
    assert made == ["a", "b", "a2", "ab", "ba"]


def test_an_object_that_is_gone_is_not_kept_alive_and_its_id_gets_no_old_value():
    kept = KeptPerObject(10)
    first = Thing()
    kept.get("k", lambda: "first", first)
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None
    for _ in range(50):   # new objects, some of them at the old one's address
        assert kept.get("k", lambda: "new", Thing()) == "new"


def test_the_store_is_bounded():
    kept = KeptPerObject(5)
    owner = Thing()
    for n in range(20):
        kept.get(n, lambda: n, owner)
        assert len(kept) <= 5


def test_an_object_without_weak_references_is_held_and_told_apart_by_identity():
    kept = KeptPerObject(10)
    steps = (Thing(), Thing())                 # a tuple: no weak reference to it
    assert kept.get("k", lambda: "first", steps) == "first"
    assert kept.get("k", lambda: "again", steps) == "first"
    equal = tuple(steps)[:1] + tuple(steps)[1:]   # equal, another object
    assert equal == steps and equal is not steps
    assert kept.get("k", lambda: "other", equal) == "other"
