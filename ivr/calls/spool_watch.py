"""Whether the spool directory is still empty, told without listing it (a Linux inotify watch).

The spool is empty nearly always, yet a webhook looks into it (a decision spooled while Redis
failed outranks a new one). Listing a directory takes several system calls; once a listing
found the directory empty, a watch answers later looks with a poll of its queue and a stat():

- the watch is set on the directory first (a new inotify instance, the directory opened and
  watched through that descriptor, so watch, descriptor and inode are one), then the directory
  is listed through the descriptor: only an empty listing after that makes it "empty";
- the kernel queues an event on the watch inside the very system call that links an entry into
  the directory (create, link, mknod, rename into it; from any process), and one when the
  directory itself is moved or the queue overflows; so while a poll finds the queue empty,
  nothing has been added since that listing;
- each look also stats the path: it must still name the watched directory (not a removed one,
  a new directory put in its place, a swapped symlink, a moved parent). The watch holds the
  directory open, so its inode number is not given to another file while it is compared;
- any event, another process (a forked child never reads its parent's queue) or a path that
  names something else: the look lists the directory as before; an empty listing builds a new
  watch (the old one's queue is never drained and trusted again).

Only on local file systems whose changes all pass through this kernel (ext2/3/4, XFS, Btrfs,
tmpfs): on a network file system another host's writes queue nothing here. Elsewhere, without
inotify or /proc, or when the kernel refuses a watch, every look lists the directory.
"""
from __future__ import annotations

import ctypes
import os
import select
import threading
import time
import weakref

from ivr.calls.forksafe import renew_after_fork

IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
_MASK = 0x80 | 0x100 | 0x400 | 0x800 | 0x01000000  # MOVED_TO, CREATE, DELETE_SELF, MOVE_SELF, ONLYDIR
LOCAL = {0xEF53, 0x58465342, 0x9123683E, 0x01021994}   # ext2/3/4, XFS, Btrfs, tmpfs (statfs f_type)
RETRY = 60.0      # seconds before a watch is tried again after the kernel refused one


def _load_libc():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc if all(hasattr(libc, f) for f in ("inotify_init1", "inotify_add_watch", "statfs")) else None
    except OSError:
        return None


_libc = _load_libc()


def local_file_system(path: str) -> bool:
    """Return True when `path` lies on a file system in LOCAL (False when it cannot be told)."""
    if _libc is None:
        return False
    buf = ctypes.create_string_buffer(512)   # struct statfs, f_type first (a C long on Linux)
    if _libc.statfs(os.fsencode(path), buf) != 0:
        return False
    return ctypes.c_long.from_buffer(buf).value in LOCAL


class _Watch:
    """One inotify instance watching one opened directory; made by one process."""

    __slots__ = ("pid", "queue", "dirfd", "dev", "ino", "ready")

    def __init__(self, path: str):
        self.pid = os.getpid()
        self.queue = self.dirfd = -1
        self.ready = None
        self.queue = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.queue < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        try:
            self.dirfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            st = os.fstat(self.dirfd)
            self.dev, self.ino = st.st_dev, st.st_ino
            if _libc.inotify_add_watch(self.queue, f"/proc/self/fd/{self.dirfd}".encode(), _MASK) < 0:
                raise OSError(ctypes.get_errno(), "inotify_add_watch failed")
            # epoll, not poll: one select.poll object refuses concurrent use by threads
            self.ready = select.epoll()
            self.ready.register(self.queue, select.EPOLLIN)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.ready is not None:
            self.ready.close()
        for fd in (self.queue, self.dirfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.queue = self.dirfd = -1


def _close_all(watches: list) -> None:
    for watch in watches:
        watch.close()     # in a forked child: its own copies of the descriptors only
    watches.clear()


class EmptyWatch:
    """Tells whether a directory is still as empty as a listing found it (module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._watch: _Watch | None = None
        self._empty = False
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._open: list[_Watch] = []             # closed when this object goes
        weakref.finalize(self, _close_all, self._open)
        renew_after_fork(self)

    def _after_fork(self) -> None:
        """In a forked child: a lock its parent's thread held at the fork is not held here."""
        self._lock = threading.Lock()

    def still_empty(self) -> bool:
        """Return True when the directory has had no entry added since a listing found it empty
        (and the path still names it); False means: list it."""
        watch = self._watch
        if watch is None or not self._empty:
            return False
        try:
            if watch.ready.poll(0):
                return False                      # something happened in it
        except (OSError, ValueError):
            return False                          # closed meanwhile by a rebuild
        # Read after the poll: a rebuild clears the flag before it closes the old queue.
        if not self._empty or self._watch is not watch or watch.pid != os.getpid():
            return False
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return st.st_ino == watch.ino and st.st_dev == watch.dev

    def found_empty(self) -> None:
        """A listing just found the directory empty: watch it (afresh), and trust it as empty
        when a listing through the new watch's descriptor finds it empty too."""
        if _libc is None or time.monotonic() < self._retry_at:
            return
        with self._lock:
            self._empty = False
            old, self._watch = self._watch, None
            if old is not None:
                self._forget(old)
            if not local_file_system(self.path):
                self._retry_at = time.monotonic() + RETRY
                return
            try:
                watch = _Watch(self.path)
            except OSError:
                self._retry_at = time.monotonic() + RETRY   # e.g. the per-user limit of instances
                return
            self._open.append(watch)
            try:
                listed = os.listdir(watch.dirfd)
                st = os.stat(self.path)
            except OSError:
                self._forget(watch)
                return
            self._watch = watch
            if not listed and (st.st_dev, st.st_ino) == (watch.dev, watch.ino):
                self._empty = True

    def _forget(self, watch: _Watch) -> None:
        if watch in self._open:
            self._open.remove(watch)
        watch.close()     # in a forked child: its own copies of the descriptors only
