"""A local append-only spool of call events for when Redis cannot be reached.

One file per call, `<spool dir>/<CallSid>.jsonl`, one JSON event a line, written with O_APPEND
(each line is a single small write, so several gunicorn workers can share the directory).

Claims (several workers, each with threads, append and flush at once): a flush claims a file by
renaming it to `<CallSid>.<pid>-<n>.flushing`, then takes an exclusive flock on it, which waits for
writers still appending to it; a writer appends under a shared flock and only after checking that
the name it opened still is that file, else it opens the call's fresh file. So no line is written
into a file after its flush has read it. The flush replays the events into Redis (events are
idempotent), then deletes the claim; on failure the events go back into the spool unchanged.
A claim left by a flush that died is put back after STALE_CLAIM_SECONDS.
"""
from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

STALE_CLAIM_SECONDS = 300  # a claimed file this old belongs to a flush that died: put it back
_SID = re.compile(r"^[A-Za-z0-9]{1,64}$")
_APPEND_TRIES = 20
_claims = itertools.count(1)


def default_dir() -> Path:
    """Return $HOTLINE_SPOOL_DIR, else $XDG_STATE_HOME/hotline/spool (~/.local/state/...)."""
    env = os.environ.get("HOTLINE_SPOOL_DIR")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "hotline" / "spool"


def valid_sid(sid: str | None) -> bool:
    """Return True for a CallSid we are willing to use as a file name and key part."""
    return bool(sid) and bool(_SID.match(sid or ""))


class Spool:
    """The spool directory; created on first write."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.dir = Path(directory) if directory else default_dir()

    def append(self, ev: dict) -> None:
        """Append one event to its call's file; raises OSError when the disk refuses."""
        if not valid_sid(ev.get("sid")):
            raise ValueError(f"refusing to spool an event without a valid CallSid: {ev.get('sid')!r}")
        self.dir.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        path = self.dir / f"{ev['sid']}.jsonl"
        for _ in range(_APPEND_TRIES):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)   # a flush that claimed this file waits for us
                if _still_named(fd, path):
                    os.write(fd, line)
                    return
            finally:
                os.close(fd)                     # also releases the lock
        raise OSError(f"spool file {path} was claimed {_APPEND_TRIES} times while appending")

    def events(self, sid: str) -> list[dict]:
        """Return the spooled events of one call (also those being flushed right now)."""
        if not valid_sid(sid) or not self.dir.is_dir():
            return []
        out: list[dict] = []
        for path in sorted(self.dir.glob(f"{sid}.*")):
            out.extend(_read(path))
        return out

    def pending(self) -> list[Path]:
        """Return the call files waiting to be flushed (after putting back claims left by a crashed flush)."""
        if not self.dir.is_dir():
            return []
        stale = time.time() - STALE_CLAIM_SECONDS
        for claimed in self.dir.glob("*.flushing"):
            try:
                if claimed.stat().st_mtime < stale:
                    self._put_back_stale(claimed)
            except FileNotFoundError:
                continue
        return sorted(self.dir.glob("*.jsonl"))

    def _put_back_stale(self, claimed: Path) -> None:
        mine = self._claim(claimed)
        if mine is None:
            return
        fd = _open_locked(mine, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if fd is None:
            return   # a live flush holds it
        try:
            for ev in _read_fd(fd, mine):
                self.append(ev)
            mine.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def _claim(self, path: Path) -> Path | None:
        """Rename `path` to a claim of this process; None when someone else took it first."""
        sid = path.name.split(".", 1)[0]
        claimed = path.with_name(f"{sid}.{os.getpid()}-{next(_claims)}.flushing")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    def flush(self, apply: Callable[[dict], object]) -> int:
        """Replay every spooled event through `apply` (which raises when Redis is down).

        Returns the number of events replayed. A file whose replay fails is put back unchanged,
        and the exception is raised again.
        """
        done = 0
        for path in self.pending():
            claimed = self._claim(path)
            if claimed is None:
                continue   # another worker claimed it
            fd = _open_locked(claimed, fcntl.LOCK_EX)   # waits for appends already under way
            if fd is None:
                continue
            try:
                os.utime(fd)   # the claim's age, for the stale check, starts now
                events = _read_fd(fd, claimed)
                try:
                    for ev in events:
                        apply(ev)
                        done += 1
                except Exception:
                    for ev in events:  # replays are idempotent, so putting all of them back is safe
                        self.append(ev)
                    raise
                finally:
                    claimed.unlink(missing_ok=True)
            finally:
                os.close(fd)
        return done


def _still_named(fd: int, path: Path) -> bool:
    """Return True when `path` still names the file open as `fd` (not claimed meanwhile)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)


def _open_locked(path: Path, how: int) -> int | None:
    """Return a read fd of `path` holding flock `how`; None when it is gone or (LOCK_NB) locked."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, how)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _read_fd(fd: int, path: Path) -> list[dict]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return _parse(b"".join(chunks).decode("utf-8", errors="replace"), path)


def _read(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return _parse(text, path)


def _parse(text: str, path: Path) -> list[dict]:
    out: list[dict] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            log.error("spool %s line %d is not JSON; skipped", path, number)
    return out
