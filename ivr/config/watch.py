"""Picks up saved edits of HOTLINE_CONFIG in a running web process, without restarting it.

A `kill -HUP` makes gunicorn boot new workers, and calls wait while they import and load (seconds
on a busy host). Instead, each process looks at the config's files every HOTLINE_CONFIG_WATCH
seconds (default 2; 0 turns it off): their names, sizes and modification times. When they changed
and then stayed the same for one more look (an edit of several files is taken whole, not file by
file), it loads them the same way as at start (ivr.config.lastgood: a copy is kept when they load):

- loaded: the new config replaces the served one in one assignment; requests from then on use
  it, calls under way keep the chain frozen in their log;
- refused: the served config stays, the errors are logged (`HOTLINE_CONFIG REFUSED`, once per
  saved version), counted (metrics: config reload failures) and shown on the console and
  /healthz until a later save loads.

One daemon thread per process, started by create_app (under gunicorn, in each worker); it ends
when its app is gone.
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Callable

from ivr.config.errors import ConfigError
from ivr.config.lastgood import load_or_last_good

log = logging.getLogger(__name__)

EVERY = 2.0  # seconds between looks (HOTLINE_CONFIG_WATCH)


def every_from_env() -> float:
    """Return HOTLINE_CONFIG_WATCH as seconds between looks: EVERY when unset or malformed, 0 = off."""
    text = os.environ.get("HOTLINE_CONFIG_WATCH", "").strip()
    try:
        value = float(text) if text else EVERY
    except ValueError:
        log.warning("HOTLINE_CONFIG_WATCH %r is not a number of seconds; looking every %.0f s", text, EVERY)
        return EVERY
    return value if value >= 0 else EVERY


def fingerprint(path: str | os.PathLike) -> tuple:
    """Return what identifies the saved state of a config file or directory: (name, size,
    modification time) of each YAML file; () when it cannot be read."""
    source = Path(path)
    try:
        files = sorted(p for p in source.iterdir() if p.suffix in (".yaml", ".yml")) if source.is_dir() else [source]
        return tuple((p.name, st.st_size, st.st_mtime_ns) for p in files for st in (p.stat(),))
    except OSError:
        return ()


class ConfigWatcher:
    """Reloads `path` into `state.config` when its files change (see the module docstring).

    `refused` is the app's list of the errors that refused the files (replaced in place);
    `on_refused` is called once per refused saved version.
    """

    def __init__(self, state, path: str | os.PathLike, keep_dir: str | None, refused: list[ConfigError],
                 on_refused: Callable[[], None] = lambda: None):
        self._state, self.path, self.keep_dir = weakref.ref(state), str(path), keep_dir
        self.refused, self.on_refused = refused, on_refused
        self.seen = fingerprint(path)
        self.settling: tuple | None = None   # files that changed at the last look, not loaded yet

    def check(self) -> str:
        """Look once; returns "unchanged", "settling" (changed since the last look: loaded once they
        stay as they are for a look), "reloaded", "same" (saved again, same version), "refused", or
        "gone" (the app's state no longer exists)."""
        state = self._state()
        if state is None:
            return "gone"
        now = fingerprint(self.path)
        if now == self.seen or not now:
            self.settling = None
            return "unchanged"
        if now != self.settling:
            self.settling = now   # an edit of several files may still be under way
            return "settling"
        self.seen, self.settling = now, None
        try:
            config, errors = load_or_last_good(self.path, self.keep_dir)
        except Exception as exc:  # noqa: BLE001 - ConfigErrors without a kept copy, or worse: keep serving
            errors, config = list(getattr(exc, "errors", None) or [exc]), None
        if errors:
            self.refused[:] = errors
            self.on_refused()
            for error in errors:
                log.error("HOTLINE_CONFIG REFUSED after an edit, still serving version %s: %s",
                          state.config.version, error)
            return "refused"
        self.refused.clear()
        if config.version == state.config.version:
            return "same"
        old, state.config = state.config.version, config
        log.warning("HOTLINE_CONFIG reloaded: version %s (was %s)", config.version, old)
        return "reloaded"

    def start(self, every: float) -> threading.Thread:
        """Start the daemon thread that calls check() every `every` seconds while the app's state lives."""
        thread = threading.Thread(target=_loop, args=(self, every),
                                  name="hotline-config-watch", daemon=True)
        thread.start()
        return thread


def _loop(watcher: ConfigWatcher, every: float) -> None:
    stop = threading.Event()
    while not stop.wait(every):
        try:
            if watcher.check() == "gone":
                return
        except Exception:  # noqa: BLE001 - the watcher outlives a bad look
            log.exception("looking at HOTLINE_CONFIG failed")
