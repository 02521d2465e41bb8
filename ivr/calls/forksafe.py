"""Objects whose locks and background threads must start afresh in a forked child.

gunicorn forks its workers (with --preload after the app was made): a lock held by one of the
parent's threads at that moment stays held for ever in the child, and the parent's threads do not
exist there. An object given to `renew_after_fork(obj)` gets `obj._after_fork()` called in every
forked child. Objects are held weakly.
"""
from __future__ import annotations

import os
import weakref

_objects: "weakref.WeakSet" = weakref.WeakSet()


def renew_after_fork(obj) -> None:
    """Call `obj._after_fork()` in every child forked from now on (while `obj` lives)."""
    _objects.add(obj)


def _after_fork_in_child() -> None:
    for obj in list(_objects):
        obj._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
