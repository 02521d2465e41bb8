"""Objects whose locks and background threads must start afresh in a forked child.

gunicorn forks its workers (with --preload after the app was made): a lock held by one of the
parent's threads at that moment stays held for ever in the child, and the parent's threads do not
exist there. An object given to `renew_after_fork(obj)` gets `obj._after_fork()` called in every
forked child. Objects are held weakly.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from typing import Callable

log = logging.getLogger(__name__)

_objects: "weakref.WeakSet" = weakref.WeakSet()


def renew_after_fork(obj) -> None:
    """Call `obj._after_fork()` in every child forked from now on (while `obj` lives)."""
    _objects.add(obj)


def _after_fork_in_child() -> None:
    for obj in list(_objects):
        obj._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def run_in_slot(loop: Callable[[], None], owner_ref: "weakref.ref", lock: str, slot: str, what: str) -> None:
    """Run a background thread's `loop`; when it ends (by a bug: logged as `what` failing), clear
    the owner's `slot` attribute under its `lock` attribute if it still names this thread, so the
    owner's next use starts a new thread. The owners' webhooks then look at the slot instead of
    asking Thread.is_alive() (a forked child's slot is cleared by its `_after_fork`)."""
    try:
        loop()
    except Exception:  # noqa: BLE001 - logged; replaced on next use
        log.exception("%s failed; the next use starts another", what)
    finally:
        owner = owner_ref()
        if owner is not None:
            with getattr(owner, lock):
                if getattr(owner, slot) is threading.current_thread():
                    setattr(owner, slot, None)
