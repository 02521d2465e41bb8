"""Keep the last config that loaded, so a broken edit cannot take the phone line down.

The web app loads HOTLINE_CONFIG at start (and gunicorn reloads on HUP). If an admin skipped
`hotline check` and the files are refused, the app starts on the last good copy instead of failing
to boot, and says so loudly; the CLI never falls back (it must show the errors).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ivr.config.errors import ConfigError, ConfigErrors
from ivr.config.load import Config, load_config

DEFAULT_DIR = Path.home() / ".local" / "state" / "hotline" / "last-good-config"


def load_or_last_good(path: str | os.PathLike, keep_dir: str | os.PathLike | None = None
                      ) -> tuple[Config, list[ConfigError]]:
    """Return (config, errors): the files at `path` when they load (a copy is kept), else the last
    copy that loaded together with the errors that refused `path`.

    Raises ConfigErrors when `path` is refused and no good copy has been kept yet.
    """
    keep = Path(keep_dir) if keep_dir else DEFAULT_DIR
    try:
        config = load_config(path)
    except ConfigErrors as exc:
        if not any(keep.glob("*.yaml")):
            raise
        return load_config(keep), exc.errors
    try:
        _keep_copy(Path(path), keep)
    except OSError:
        pass  # keeping a copy is a safety net; failing to write it must not stop a good config
    return config, []


def _keep_copy(source: Path, keep: Path) -> None:
    files = sorted(p for p in source.iterdir() if p.suffix in (".yaml", ".yml")) if source.is_dir() else [source]
    keep.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".last-good-", dir=keep.parent))
    for file in files:
        shutil.copyfile(file, fresh / (file.stem + ".yaml"))
    old = keep.with_name(keep.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if keep.exists():
        keep.rename(old)
    fresh.rename(keep)
    shutil.rmtree(old, ignore_errors=True)
