"""Where a hotline process keeps local state (spool, last good config) when not told otherwise.

Under $XDG_STATE_HOME/hotline (default ~/.local/state/hotline), one sub-directory per deployment:
named by a short hash of what the deployment serves, so two deployments on one account never
share (and never flush or overwrite) each other's files.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def state_home() -> Path:
    """Return $XDG_STATE_HOME/hotline, else ~/.local/state/hotline."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "hotline"


def source_key(config_source: str | os.PathLike | None) -> str:
    """Return a config source as one stable text: an existing path made absolute, else as given
    (None and the embedded default's name stay names)."""
    if config_source is None:
        return "embedded default"
    path = Path(config_source)
    return str(path.resolve()) if path.exists() else str(config_source)


def deployment_dir(kind: str, *parts: str | None) -> Path:
    """Return state_home()/kind/<12 hex digits of a hash of `parts`> (None counts as empty)."""
    digest = hashlib.sha256("\n".join(p or "" for p in parts).encode()).hexdigest()[:12]
    return state_home() / kind / digest
