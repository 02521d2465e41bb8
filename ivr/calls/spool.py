"""A local append-only spool of call events for when Redis cannot be reached.

One file per call, `<spool dir>/<CallSid>.jsonl`, one JSON event a line, written with O_APPEND
(each line is a single small write, so several gunicorn workers can share the directory).
Flushing claims a file by renaming it, replays its events into Redis (events are idempotent),
then deletes it; on failure the events go back into the spool.
"""
from __future__ import annotations

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
        fd = os.open(self.dir / f"{ev['sid']}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def events(self, sid: str) -> list[dict]:
        """Return the spooled events of one call (also those being flushed right now)."""
        if not valid_sid(sid) or not self.dir.is_dir():
            return []
        out: list[dict] = []
        for path in sorted(self.dir.glob(f"{sid}.*")):
            out.extend(_read(path))
        return out

    def pending(self) -> list[Path]:
        """Return the call files waiting to be flushed (also claims left by a crashed flush)."""
        if not self.dir.is_dir():
            return []
        stale = time.time() - STALE_CLAIM_SECONDS
        for claimed in self.dir.glob("*.flushing"):
            try:
                if claimed.stat().st_mtime < stale:
                    for ev in _read(claimed):
                        self.append(ev)
                    claimed.unlink(missing_ok=True)
            except FileNotFoundError:
                continue
        return sorted(self.dir.glob("*.jsonl"))

    def flush(self, apply: Callable[[dict], object]) -> int:
        """Replay every spooled event through `apply` (which raises when Redis is down).

        Returns the number of events replayed. A file whose replay fails is put back.
        """
        done = 0
        for path in self.pending():
            claimed = path.with_suffix(f".{os.getpid()}.flushing")
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # another worker claimed it
            events = _read(claimed)
            try:
                for ev in events:
                    apply(ev)
                    done += 1
            except Exception:
                for ev in events:  # replays are idempotent, so putting all of them back is safe
                    self.append(ev)
                claimed.unlink(missing_ok=True)
                raise
            claimed.unlink(missing_ok=True)
        return done


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
