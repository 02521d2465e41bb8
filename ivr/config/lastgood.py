"""Keep the last config that loaded, so a broken edit cannot take the phone line down.

The web app loads HOTLINE_CONFIG at start (and gunicorn reloads on HUP). If an admin skipped
`hotline check` and the files are refused, the app starts on the last good copy instead of failing
to boot, and says so loudly; the CLI never falls back (it must show the errors).

Without HOTLINE_LAST_GOOD_DIR each config source keeps its copy in a directory of its own, so
deployments on one account never serve each other's config. Processes of one deployment (the
gunicorn workers) replace and read the copy under a lock, so none sees it half-replaced.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from ivr.config.errors import ConfigError, ConfigErrors
from ivr.config.load import Config, load_config
from ivr.statedir import deployment_dir, source_key


def default_dir(source: str | os.PathLike) -> Path:
    """Return where the last good copy of config `source` is kept by default:
    $XDG_STATE_HOME/hotline/last-good-config/<hash of the source's absolute path>."""
    return deployment_dir("last-good-config", source_key(source))


def load_or_last_good(path: str | os.PathLike, keep_dir: str | os.PathLike | None = None
                      ) -> tuple[Config, list[ConfigError]]:
    """Return (config, errors): the files at `path` when they load (a copy is kept), else the last
    copy that loaded together with the errors that refused `path`.

    Raises ConfigErrors when `path` is refused and no good copy has been kept yet.
    """
    keep = Path(keep_dir) if keep_dir else default_dir(path)
    try:
        config = load_config(path)
    except ConfigErrors as exc:
        with _locked(keep):
            if not any(keep.glob("*.yaml")):
                raise
            return load_config(keep), exc.errors
    try:
        with _locked(keep):
            _keep_copy(Path(path), keep)
    except OSError:
        pass  # keeping a copy is a safety net; failing to write it must not stop a good config
    return config, []


@contextlib.contextmanager
def _locked(keep: Path):
    """Hold an exclusive flock on `<keep>.lock` (beside the copy) while the block runs."""
    try:
        keep.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(keep.with_name(keep.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o640)
    except OSError:
        yield  # an unwritable state dir: no copy can be kept either; reading needs no lock then
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _keep_copy(source: Path, keep: Path) -> None:
    files = sorted(p for p in source.iterdir() if p.suffix in (".yaml", ".yml")) if source.is_dir() else [source]
    keep.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".last-good-", dir=keep.parent))
    for file in files:
        shutil.copyfile(file, fresh / (file.stem + ".yaml"))
    try:
        load_config(fresh)   # the files may have been saved again since they loaded: keep only a copy that loads
    except ConfigErrors:
        shutil.rmtree(fresh, ignore_errors=True)
        return
    old = keep.with_name(keep.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if keep.exists():
        keep.rename(old)
    fresh.rename(keep)
    shutil.rmtree(old, ignore_errors=True)
