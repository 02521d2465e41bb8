"""A child forked while another thread of its parent rebuilds the spool's watch (the flusher
thread does on every drained spool) can still look at the spool: the watch's lock starts afresh."""
from __future__ import annotations

import os
import time

import pytest

from ivr.calls import spool_watch
from ivr.calls.spool import Spool

SID = "CA" + "4" * 32
BOUND = 20.0   # seconds a child may take for one look at an empty directory (loaded machine)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_during_a_rebuild_can_look_at_the_spool(tmp_path):
    if not spool_watch.local_file_system(str(tmp_path)):
        pytest.skip("the test directory is not on a file system the watch is used on")
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    assert spool.events(SID) == []
    # The moment of the fork: another thread of the parent is inside found_empty (holds the lock).
    spool._empty._lock.acquire()
    try:
        pid = os.fork()
        if pid == 0:   # the child (e.g. RQ's work horse): one look at the empty spool
            code = 4
            try:
                code = 0 if spool.events(SID) == [] else 3
            finally:
                os._exit(code)
    finally:
        spool._empty._lock.release()
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child still waits for its parent's watch lock after {BOUND} s")
