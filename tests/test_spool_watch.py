"""An empty spool is looked at without listing it (an inotify watch), and every look still sees
what any process added, in whatever way, however the directory's path was changed under it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ivr.calls import spool as spool_module
from ivr.calls import spool_watch
from ivr.calls.spool import Spool

SID = "CA" + "3" * 32
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def spool_dir(tmp_path):
    if not spool_watch.local_file_system(str(tmp_path)):
        pytest.skip("the test directory is not on a file system the watch is used on")
    d = tmp_path / "spool"
    d.mkdir()
    return d


def _watched(spool: Spool) -> Spool:
    """Return `spool` after a look that found it empty and set up the watch."""
    assert spool.events(SID) == []
    assert spool._empty.still_empty(), "the watch answers for the empty spool"
    return spool


def _line(sid: str = SID, ev_id: str = "start:start") -> bytes:
    return (json.dumps({"sid": sid, "id": ev_id}) + "\n").encode()


def test_looks_at_an_empty_spool_list_it_no_more(spool_dir, monkeypatch):
    spool = _watched(Spool(spool_dir))
    listed = []
    real = os.listdir
    monkeypatch.setattr(spool_module.os, "listdir", lambda path=".": listed.append(path) or real(path))
    for _ in range(20):
        assert spool.events(SID) == [] and not spool.has_pending()
    assert listed == []
    spool.append({"sid": SID, "id": "a"})
    assert [e["id"] for e in spool.events(SID)] == ["a"] and spool.has_pending()
    assert listed, "a look after a write lists the directory"


def test_a_file_added_by_another_process_is_seen_at_the_next_look(spool_dir):
    spool = _watched(Spool(spool_dir))
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from ivr.calls.spool import Spool; "
            f"Spool({str(spool_dir)!r}).append({{'sid': {SID!r}, 'id': 'other'}})")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert [e["id"] for e in spool.events(SID)] == ["other"]


@pytest.mark.parametrize("how", ["create", "rename", "link", "claimed"])
def test_every_way_of_adding_an_entry_is_seen(spool_dir, tmp_path, how):
    spool = _watched(Spool(spool_dir))
    outside = tmp_path / f"{SID}.jsonl"
    outside.write_bytes(_line())
    if how == "create":
        fd = os.open(spool_dir / f"{SID}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(fd, _line())
        os.close(fd)
    elif how == "rename":
        os.rename(outside, spool_dir / f"{SID}.jsonl")
    elif how == "link":
        os.link(outside, spool_dir / f"{SID}.jsonl")
    else:
        os.rename(outside, spool_dir / f"{SID}.123-abcd.flushing")   # a flush's claimed file
    assert [e["id"] for e in spool.events(SID)] == ["start:start"]
    assert spool.has_pending()


def test_a_directory_put_in_the_spools_place_is_listed(spool_dir, tmp_path):
    spool = _watched(Spool(spool_dir))
    spool_dir.rename(tmp_path / "old-spool")
    spool_dir.mkdir()
    (spool_dir / f"{SID}.jsonl").write_bytes(_line())
    assert [e["id"] for e in spool.events(SID)] == ["start:start"]
    # emptied again: watched afresh, and the old directory's changes no longer count
    (spool_dir / f"{SID}.jsonl").unlink()
    _watched(spool)
    (tmp_path / "old-spool" / f"{SID}.jsonl").write_bytes(_line())
    assert spool.events(SID) == [] and spool._empty.still_empty()


def test_a_moved_parent_or_a_swapped_symlink_is_noticed(tmp_path):
    if not spool_watch.local_file_system(str(tmp_path)):
        pytest.skip("the test directory is not on a file system the watch is used on")
    (tmp_path / "a" / "spool").mkdir(parents=True)
    spool = _watched(Spool(tmp_path / "a" / "spool"))
    (tmp_path / "a").rename(tmp_path / "a-moved")
    (tmp_path / "a" / "spool").mkdir(parents=True)
    (tmp_path / "a" / "spool" / f"{SID}.jsonl").write_bytes(_line(ev_id="moved"))
    assert [e["id"] for e in spool.events(SID)] == ["moved"]

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / f"{SID}.jsonl").write_bytes(_line(ev_id="swapped"))
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "one")
    spool = _watched(Spool(link))
    (tmp_path / "next").symlink_to(tmp_path / "two")
    os.replace(tmp_path / "next", link)
    assert [e["id"] for e in spool.events(SID)] == ["swapped"]


def test_a_removed_spool_directory_is_listed_again(spool_dir):
    spool = _watched(Spool(spool_dir))
    spool_dir.rmdir()
    assert spool.events(SID) == [] and not spool._empty.still_empty()
    spool.append({"sid": SID, "id": "again"})
    assert [e["id"] for e in spool.events(SID)] == ["again"]


def test_a_forked_child_keeps_a_watch_of_its_own(spool_dir):
    spool = _watched(Spool(spool_dir))
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: its first look lists (the parent's watch is not its own), then watches
        code = 1
        try:
            assert not spool._empty.still_empty()
            assert spool.events(SID) == [] and spool._empty.still_empty()
            os.write(ready_w, b"1")
            os.read(go_r, 1)
            code = 0 if [e["id"] for e in spool.events(SID)] == ["parent"] else 2
        finally:
            os._exit(code)
    os.read(ready_r, 1)
    spool.append({"sid": SID, "id": "parent"})
    os.write(go_w, b"1")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [e["id"] for e in spool.events(SID)] == ["parent"]


def test_without_inotify_every_look_lists(spool_dir, monkeypatch):
    monkeypatch.setattr(spool_watch, "_libc", None)
    spool = Spool(spool_dir)
    assert spool.events(SID) == [] and not spool._empty.still_empty()
    spool.append({"sid": SID, "id": "a"})
    assert [e["id"] for e in spool.events(SID)] == ["a"]


def test_a_write_is_seen_by_every_later_look_of_every_thread(spool_dir):
    spool = Spool(spool_dir)
    written: list[str] = []
    stop = threading.Event()
    misses: list[str] = []

    def writer():
        n = 0
        while not stop.is_set() and n < 400:
            sid = f"CA{n:032d}"
            Spool(spool_dir).append({"sid": sid, "id": "x"})   # another writer (as another process would)
            written.append(sid)
            if n % 3 == 0:
                written.clear()                                 # first: a reader then expects nothing
                for name in os.listdir(spool_dir):              # emptied now and then, as a flush does
                    (spool_dir / name).unlink(missing_ok=True)
            n += 1
            time.sleep(0.0005)

    def reader():
        try:
            while not stop.is_set():
                last = written[-1] if written else None
                if last is not None and not spool.events(last) and last in written:
                    misses.append(last)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            misses.append(repr(exc))

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    threads[0].join(60)
    stop.set()
    for t in threads[1:]:
        t.join(10)
    assert misses == []
