"""A local append-only spool of call events for when Redis cannot be reached.

One file per call, `<spool dir>/<CallSid>.jsonl`, one JSON event a line, written with O_APPEND
under an exclusive flock (each line is a single small write). Several processes may share the
directory (gunicorn workers; two deployments given the same HOTLINE_SPOOL_DIR) without losing
or doubling an event:

- a flush claims a file by renaming it to a name of its own, then takes its lock (waiting for a
  write in flight) and holds it while it replays the events into Redis (events are idempotent),
  then deletes it; on failure the events go back into the spool;
- a writer that finds, once it holds the lock, that its file was renamed away opens the call's
  file again, so nothing is written into a claimed file after the flush read it;
- a claimed file whose lock is free belongs to a flush that died: it is put back, never one
  that is still running.

Without HOTLINE_SPOOL_DIR each deployment (config source + Redis URL) gets its own directory.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import time
from pathlib import Path
from typing import Callable

from ivr.calls.spool_watch import EmptyWatch
from ivr.config.load import DEFAULT_NAME
from ivr.statedir import deployment_dir, source_key

log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Za-z0-9]{1,64}$")


_FROM_ENV = object()


def default_dir(config_source=_FROM_ENV, redis_url=_FROM_ENV) -> Path:
    """Return $HOTLINE_SPOOL_DIR, else the deployment's own directory under
    $XDG_STATE_HOME/hotline/spool/ (~/.local/state/...), named by a hash of the config source
    (a path, or None for the embedded default) and the Redis URL it serves (None: no Redis).
    An argument left out is read from $HOTLINE_CONFIG or $REDIS_URL."""
    env = os.environ.get("HOTLINE_SPOOL_DIR")
    if env:
        return Path(env)
    if config_source is _FROM_ENV:
        config_source = os.environ.get("HOTLINE_CONFIG") or None
    if redis_url is _FROM_ENV:
        redis_url = os.environ.get("REDIS_URL") or None
    if config_source is not None and str(config_source) == DEFAULT_NAME:
        config_source = None
    return deployment_dir("spool", source_key(config_source), redis_url)


def valid_sid(sid: str | None) -> bool:
    """Return True for a CallSid we are willing to use as a file name and key part."""
    return bool(sid) and bool(_SID.match(sid or ""))


class Spool:
    """The spool directory; created on first write."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.dir = Path(directory) if directory else default_dir()
        self._empty = EmptyWatch(self.dir)   # tells "still empty" without a listing (spool_watch)
        self._refused: set[str] = set()      # calls whose replay failed, logged once

    def prepare(self) -> None:
        """Make the directory now, as the first write would (an empty one is then watched, not
        listed, from the first look); raises OSError when it cannot be made."""
        self.dir.mkdir(parents=True, exist_ok=True)

    def append(self, ev: dict) -> None:
        """Append one event to its call's file; raises OSError when the disk refuses."""
        if not valid_sid(ev.get("sid")):
            raise ValueError(f"refusing to spool an event without a valid CallSid: {ev.get('sid')!r}")
        self.dir.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        path = self.dir / f"{ev['sid']}.jsonl"
        while True:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                if _lock_unless_renamed(fd, path):
                    os.write(fd, line)
                    return
            finally:
                os.close(fd)  # also releases the lock

    def events(self, sid: str) -> list[dict]:
        """Return the spooled events of one call (also those being flushed right now)."""
        if not valid_sid(sid):
            return []
        prefix = sid + "."
        out: list[dict] = []
        for name in sorted(n for n in self._names() if n.startswith(prefix)):
            out.extend(_read(self.dir / name))
        return out

    def has_pending(self) -> bool:
        """Return True when any call file (waiting or claimed) is in the spool; cheap enough for
        every webhook (one directory read, no pattern compiled)."""
        return any(n.endswith((".jsonl", ".flushing")) for n in self._names())

    def _names(self) -> list[str]:
        """Return the names in the spool directory ([] while it does not exist); while it stays
        empty, without listing it (ivr.calls.spool_watch)."""
        if self._empty.still_empty():
            return []
        try:
            names = os.listdir(self.dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        if not names:
            self._empty.found_empty()
        return names

    def pending(self) -> list[Path]:
        """Return the call files waiting to be flushed (after putting back claims of dead flushes)."""
        if not self.dir.is_dir():
            return []
        for claimed in self.dir.glob("*.flushing"):
            self._recover(claimed)
        return sorted(self.dir.glob("*.jsonl"))

    def flush(self, apply: Callable[[dict], object],
              fatal: tuple[type[BaseException], ...] = (Exception,)) -> int:
        """Replay every spooled event through `apply` (which raises when Redis is down).

        Returns the number of events replayed. A file whose replay fails is put back. An exception
        of a `fatal` kind (Redis down) ends the flush and is raised; any other one only skips that
        file, logged once per call: one call whose replay fails does not hold up the others.
        """
        done = 0
        for path in self.pending():
            try:
                done += self._flush_file(path, apply)
            except fatal:
                raise
            except Exception:  # noqa: BLE001 - the others go on; this call stays spooled
                sid = path.stem
                if sid not in self._refused:
                    self._refused.add(sid)
                    log.exception("call %s: its spooled events could not be replayed; they stay in %s "
                                  "and are tried again with every flush", sid, self.dir)
        return done

    def _flush_file(self, path: Path, apply: Callable[[dict], object]) -> int:
        """Replay one claimed call file; returns its events replayed (0 when another process has
        it). Raises what `apply` raised, the file put back."""
        done = 0
        claimed = path.with_name(f"{path.stem}.{os.getpid()}-{secrets.token_hex(4)}.flushing")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return 0  # another process claimed it
        fd = _open_locked(claimed)
        if fd is None:
            return 0  # taken back as stale before we locked it: its events are in the spool again
        try:
            events = _read(claimed)
            try:
                for ev in events:
                    apply(dict(ev))  # a copy: `apply` may consume fields that a put-back needs
                    done += 1
            except Exception:
                for ev in events:  # replays are idempotent, so putting all of them back is safe
                    self.append(ev)
                claimed.unlink(missing_ok=True)
                raise
            claimed.unlink(missing_ok=True)
        finally:
            os.close(fd)
        self._refused.discard(path.stem)
        return done

    def _recover(self, claimed: Path) -> None:
        """Put a claimed file back into the spool if the flush that claimed it is gone.

        Its lock tells: a running flush holds it. (A flush that renamed the file but has not
        locked it yet finds it taken back and skips it, so its events are replayed once, later.)
        """
        fd = _open_locked(claimed, wait=False)
        if fd is None:
            return  # a running flush holds it (or it is gone)
        try:
            events = _read(claimed)
            for ev in events:
                self.append(ev)
            claimed.unlink(missing_ok=True)
            if events:
                log.warning("put back %d event(s) of an interrupted flush: %s", len(events), claimed.name)
        finally:
            os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Return True when `path` still names the file open as `fd`."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _lock_unless_renamed(fd: int, path: Path) -> bool:
    """Lock `fd` for a write; returns False (unlocked) when `path` no longer names it (claimed).

    Never waits for a flush: a file held by a flush has been renamed away, so the writer sees
    that and opens a new file; the lock is only ever contended by other writers, briefly.
    """
    while True:
        if not _same_file(fd, path):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            time.sleep(0.001)
            continue
        if _same_file(fd, path):
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False


def _open_locked(path: Path, wait: bool = True) -> int | None:
    """Return a descriptor of `path` holding its exclusive lock, or None when the file is gone,
    was replaced while we waited, or (wait False) is locked by someone else."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if not _same_file(fd, path):
        os.close(fd)
        return None
    return fd


def _read(path: Path) -> list[dict]:
    out: list[dict] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            log.error("spool %s line %d is not JSON; skipped", path, number)
    return out
