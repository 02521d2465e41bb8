"""A process's journal: the call events a webhook handed to the write-behind (ivr.calls.behind)
and Redis has not taken yet, on disk, so a process that dies before its flusher wrote them loses
nothing.

- Each process writes its own file `<journal dir>/<pid>-<random>.log`, one JSON line per event,
  one webhook's events with a single `os.write` (O_APPEND) before the webhook answers. A process
  killed after that (SIGKILL, OOM, a crash) leaves the events in the kernel's page cache and the
  file, as the spool does (neither is fsync'ed: the promise is "no process death loses a call
  event", not "no power cut").
- The owner holds an exclusive flock on its file for its whole life. The file is made under a
  hidden name, locked, then renamed into place, so no other process ever sees it unlocked while
  its owner lives.
- A file whose lock can be taken belongs to a process that is gone: `adopt_orphans` moves its
  events into the spool, whose flush writes them into Redis (de-duplicated by event id, so an
  event that did reach Redis before its process died adds nothing) and runs the outcome hooks
  for those that were new.
- The owner empties its file (truncate) when everything in it was written, and starts a new file
  once it grows past ROTATE_BYTES while there is always more coming; the old one is removed once
  its events were written.

The directory is the spool's with ".journal" added to its name (`journal_dir`).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
from pathlib import Path

from ivr.calls.append import FOLLOW, Score
from ivr.calls.event_json import ENCODER, EncodedStr
from ivr.calls.forksafe import renew_after_fork

log = logging.getLogger(__name__)

ROTATE_BYTES = 1 << 20   # a journal this long starts a new file at the flusher's next take
_SUFFIX = ".log"


def journal_dir(spool_dir: str | os.PathLike) -> Path:
    """Return the journal directory that goes with spool directory `spool_dir` (a sibling)."""
    spool = Path(spool_dir)
    return spool.with_name(spool.name + ".journal")


def journal_line(ev_json: str, ttl_days: int, index_ts: float | None, follow: list | None) -> str:
    """Return one event's journal line: its logged JSON text (`ev_json`, without the follow-up)
    and what its write needs besides (days kept, index score, follow-up)."""
    index = "null" if index_ts is None else index_ts.text if type(index_ts) is Score else repr(float(index_ts))
    return (f'{{"t":{int(ttl_days)},"i":{index},'
            f'"f":{"null" if not follow else _follow_json(follow)},"e":{ev_json}}}\n')


def _follow_json(follow: list) -> str:
    """Return ENCODER.encode(follow), taking a member's JSON text as it is when it carries one
    (ivr.calls.event_json.EncodedStr: escaping a settle mark's 1 KB anew cost more than the rest
    of a status callback's journal line)."""
    member = follow[2] if len(follow) == 3 else None
    if type(member) is not EncodedStr:
        return ENCODER.encode(follow)
    return f"[{ENCODER.encode(follow[0])},{ENCODER.encode(follow[1])},{member.json}]"


def spooled_form(line: str) -> dict:
    """Return the event of a journal line in the spool's form (with `_ttl_days`, `_index_ts` and
    the follow-up); raises ValueError (json.JSONDecodeError) or KeyError for a broken line."""
    data = json.loads(line)
    ev = dict(data["e"])
    ev["_ttl_days"], ev["_index_ts"] = data["t"], data["i"]
    if data.get("f"):
        ev[FOLLOW] = data["f"]
    return ev


class Journal:
    """This process's journal file (made at the first `append`). Not thread-safe: the write-behind
    calls it under its own lock."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self._fd: int | None = None
        self.path: Path | None = None
        self.size = 0
        self._torn = False   # the file ends in a broken line that could not be cut off
        renew_after_fork(self)

    def _after_fork(self) -> None:
        # The parent's file and lock are the parent's: the child closes its copy of the descriptor
        # (the parent's lock stays, held through the parent's own) and makes its own file.
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd, self.path, self.size, self._torn = None, None, 0, False

    def append(self, text: str) -> None:
        """Write `text` (whole lines) to the end of the file with one write; raises OSError."""
        if self._fd is None:
            self._open()
        data = text.encode()
        if self._torn:   # a torn write could not be cut off: end its broken line first
            data = b"\n" + data
        written = os.write(self._fd, data)
        if written != len(data):   # a full disk mid-write: cut the broken line off, or the next
            try:                   # append would go on it and be unreadable with it
                os.ftruncate(self._fd, self.size)
                self._torn = False
            except OSError:
                self._torn = True
            raise OSError(f"journal {self.path}: wrote {written} of {len(data)} bytes")
        self.size += written
        self._torn = False

    def empty(self) -> None:
        """Truncate the file: everything in it was written (to Redis or the spool)."""
        if self._fd is not None and self.size:
            os.ftruncate(self._fd, 0)
            self.size, self._torn = 0, False

    def start_new(self) -> tuple[int, Path] | None:
        """Leave the current file for a new one (made at the next append); returns the old file's
        (descriptor, path) for `retire` once its events were written, or None when there is none."""
        if self._fd is None:
            return None
        old = (self._fd, self.path)
        self._fd, self.path, self.size, self._torn = None, None, 0, False
        return old

    @staticmethod
    def retire(old: tuple[int, Path]) -> None:
        """Remove a file left by `start_new` whose events were all written, and release it."""
        fd, path = old
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def close(self, remove: bool) -> None:
        """Close the file; with `remove`, delete it first (everything in it was written)."""
        if self._fd is None:
            return
        old = self.start_new()
        if remove:
            self.retire(old)
        else:
            os.close(old[0])

    def _open(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(6)}{_SUFFIX}"
        hidden = self.dir / f".{name}"
        fd = os.open(hidden, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(hidden, self.dir / name)
        except OSError:
            os.close(fd)
            hidden.unlink(missing_ok=True)
            raise
        self._fd, self.path, self.size = fd, self.dir / name, 0


def waiting_bytes(directory: str | os.PathLike) -> int:
    """Return the bytes in the journals of `directory` (every process's; 0 when there are none).
    A journal is emptied whenever its process has written all it holds, so bytes that never go
    to 0 for minutes mean a write-behind that does not write (or journals nobody adopts)."""
    total = 0
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(_SUFFIX):
                    try:
                        total += entry.stat().st_size
                    except FileNotFoundError:
                        pass
    except (FileNotFoundError, NotADirectoryError):
        return 0
    return total


def adopt_orphans(directory: str | os.PathLike, spool) -> int:
    """Move the events of journals whose process is gone into `spool` (an ivr.calls.spool.Spool)
    and remove those journals; returns how many events were moved. A journal whose process lives
    (its lock is held) is left alone. Raises OSError when the spool refuses an event (the journal
    then stays, to be adopted again later)."""
    folder = Path(directory)
    try:
        names = [n for n in os.listdir(folder) if n.endswith(_SUFFIX) and not n.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    moved = 0
    for name in names:
        here = 0
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue   # its process lives
            if os.fstat(fd).st_nlink == 0:
                continue   # another process adopted it while we waited for the lock
            with os.fdopen(os.dup(fd), "r", encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    ev = spooled_form(line)
                    spool.append(ev)
                except (ValueError, KeyError, TypeError):   # the spool's ValueError: no valid CallSid
                    log.error("journal %s line %d is not an event; skipped", path, number)
                    continue
                here += 1
            path.unlink(missing_ok=True)
            moved += here
            if here:
                log.warning("moved %d call event(s) of a process that ended before writing them "
                            "(journal %s) into the spool", here, name)
        finally:
            os.close(fd)
    return moved
