"""Write-behind of webhooks' call events: the webhook answers once its events are in this
process's journal (ivr.calls.journal), and a flusher thread writes them into Redis in batches.

Why: a webhook that waits for its write's round trip costs the machine about as much as the write
itself (thread switches, the GIL handed back and forth), measured with bench/voice_bench.py. A
webhook now pays one `os.write` instead; the flusher writes what has come meanwhile with one
script call, de-duplicated by event id as before.

How "no record lost" is kept:
- an event is in the journal before its webhook answers; the journal is emptied only after Redis
  (or, when Redis fails, the spool) took everything in it;
- a process that dies before its flusher wrote leaves its journal, which another process moves
  into the spool (ivr.calls.journal.adopt_orphans), and the spool's flush writes it;
- a process that exits normally writes what waits first (atexit, at most EXIT_WAIT seconds);
- Redis down: the flusher spools the batch, as a webhook used to.

What changes for readers: this process's waiting events are added to its own reads of a call
(`pending`); another process sees them once written, normally within a millisecond or so, long
before Twilio posts that call's next webhook.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import Callable

from ivr.calls.append import FOLLOW
from ivr.calls.event_json import encode_event
from ivr.calls.forksafe import renew_after_fork, run_in_slot
from ivr.calls.journal import Journal, ROTATE_BYTES, journal_line

log = logging.getLogger(__name__)

BATCH = 256          # events per script call at most
LINGER = 0.005       # seconds the flusher lets events gather after the first, so that one script
                     # call writes those of several webhooks (at most this much later in Redis)
IDLE_WAIT = 1.0      # seconds the flusher waits for work before looking again
RETRY_WAIT = 1.0     # seconds before a batch that neither Redis nor the spool took is tried again
EXIT_WAIT = 3.0      # seconds a normally exiting process waits for its events to be written

Item = tuple[dict, int, "float | None"]   # (event, days kept, index score or None), as CallStore.add


class WriteBehind:
    """One process's queue of call events, its journal and its flusher thread.

    `write(items, texts)` writes a batch (the texts are the events' JSON, without follow-ups) into
    Redis or the spool, and runs what follows a write; it raises OSError when neither took it.
    `park(items)`, when given, puts events that `write` fails on with anything but an OSError (a
    bug, not a full disk) where they are kept for a later replay (the spool); it raises OSError
    when it cannot.
    """

    def __init__(self, write: Callable[[list[Item], list[str]], None], journal: Journal,
                 park: Callable[[list[Item]], object] | None = None):
        self._write = write
        self._park = park
        self.journal = journal
        self._after_fork()
        self._refused = False
        ref = weakref.ref(self)
        atexit.register(_close_at_exit, ref)
        renew_after_fork(self)

    def _after_fork(self) -> None:
        # A forked child closes its copies of the parent's old journals (as Journal does with the
        # current one): held open here, they would keep the parent's lock past the parent's death.
        for _, (fd, _path) in getattr(self, "_retire", ()):
            try:
                os.close(fd)
            except OSError:
                pass
        self._lock = threading.Lock()
        self._flushing = threading.Lock()   # one batch at a time: `_done` counts them in order
        self._changed = threading.Condition(self._lock)
        self._queue: deque[tuple[Item, str]] = deque()
        self._by_sid: dict[str, list[dict]] = {}   # events queued or being written, per CallSid
        self._submitted = self._written = 0
        self._retire: list[tuple[int, tuple]] = []  # (events submitted before it, old journal file)
        self._wake = threading.Event()
        self._hurry = False     # someone waits in `settle`: no lingering
        self._thread: threading.Thread | None = None

    # -- the webhook's side -------------------------------------------------------------------
    def submit(self, items: list[Item]) -> None:
        """Journal `items` and queue them for the flusher; raises OSError when the journal cannot
        be written (then nothing was queued: the caller writes them itself)."""
        texts, lines = [], []
        for ev, ttl_days, index_ts in items:
            follow = ev.get(FOLLOW)
            text = encode_event({k: v for k, v in ev.items() if k != FOLLOW} if follow else ev)
            texts.append(text)
            lines.append(journal_line(text, ttl_days, index_ts, follow))
        with self._lock:
            self.journal.append("".join(lines))
            for item, text in zip(items, texts):
                self._queue.append((item, text))
                self._by_sid.setdefault(item[0]["sid"], []).append(item[0])
            self._submitted += len(items)
        self._refused = False
        if self._thread is None:   # a flusher that ends clears it (cheaper than is_alive() per webhook)
            self._start()
        if not self._wake.is_set():   # set() takes the event's lock and notifies even when set: in
            self._wake.set()          # a stream of webhooks, all but the first of a batch find it set

    def refused_once(self, exc: OSError) -> None:
        """Log (once until the journal works again) that the journal refused a webhook's events."""
        if not self._refused:
            self._refused = True
            log.error("the call event journal %s refused a write (%s): webhooks write their events "
                      "themselves until it works again", self.journal.dir, exc)

    def pending(self, sid: str) -> list[dict]:
        """Return call `sid`'s events this process has not yet seen written (oldest first)."""
        waiting = self._by_sid.get(sid)
        return list(waiting) if waiting else []

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every event submitted so far was written; returns False on timeout."""
        with self._changed:
            target = self._submitted
            if self._written >= target:
                return True
            self._hurry = True
            try:
                self._wake.set()
                return self._changed.wait_for(lambda: self._written >= target, timeout)
            finally:
                self._hurry = False

    def waiting(self) -> int:
        """Return how many events wait to be written."""
        return self._submitted - self._written

    # -- the flusher's side -------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=_flusher, args=(weakref.ref(self), self._wake),
                                            name="hotline-write-behind", daemon=True)
            self._thread.start()

    def _take(self) -> list[tuple[Item, str]]:
        """Return the next batch, oldest first ([] when none waits); empties the journal when all
        it holds was written, and starts a new file when it grew large."""
        with self._lock:
            if not self._queue:
                if self._written == self._submitted:
                    self.journal.empty()
                return []
            batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            if self.journal.size > ROTATE_BYTES:
                old = self.journal.start_new()
                if old is not None:
                    self._retire.append((self._submitted, old))
            return batch

    def _done(self, batch: list[tuple[Item, str]]) -> None:
        """Count `batch` as written, and remove journal files whose events all were."""
        with self._lock:
            for (ev, _, _), _ in batch:
                waiting = self._by_sid.get(ev["sid"])
                if waiting is not None:
                    for i, other in enumerate(waiting):
                        if other is ev:
                            del waiting[i]
                            break
                    if not waiting:
                        del self._by_sid[ev["sid"]]
            self._written += len(batch)
            while self._retire and self._retire[0][0] <= self._written:
                _, old = self._retire.pop(0)
                try:
                    Journal.retire(old)
                except OSError:
                    log.exception("could not remove the written journal %s", old[1])
            self._changed.notify_all()

    def _put_back(self, batch: list[tuple[Item, str]]) -> None:
        with self._lock:
            self._queue.extendleft(reversed(batch))

    def flush_once(self, wait: float = -1) -> bool:
        """Write one batch; returns True when there was one and it was written. One at a time
        (the flusher's and close()'s at exit): an old journal is removed once as many events as
        it held were written, which holds only while batches are written in their order.
        `wait`: seconds to wait for a batch in flight (-1: as long as it takes); False when over."""
        if not self._flushing.acquire(timeout=wait):
            return False
        try:
            batch = self._take()
            if not batch:
                return False
            try:
                self._write([item for item, _ in batch], [text for _, text in batch])
            except Exception as exc:   # noqa: BLE001 - OSError: Redis AND the spool refused
                if isinstance(exc, OSError) or self._park is None:
                    self._put_back(batch)
                    log.exception("could not write %d call event(s); they stay in the journal and are "
                                  "tried again in %.0f s", len(batch), RETRY_WAIT)
                    raise
                log.exception("a batch of %d call event(s) failed; writing them one by one", len(batch))
                self._one_by_one(batch)
            self._done(batch)
            return True
        finally:
            self._flushing.release()

    def _one_by_one(self, batch: list[tuple[Item, str]]) -> None:
        """Write each event of a batch that failed as a whole; one that fails alone with anything
        but an OSError is parked (kept for the spool's replay) so that it holds up nothing. On an
        OSError, what is left goes back to the queue (what was written counted) and it is raised."""
        for n, (item, text) in enumerate(batch):
            try:
                self._write_or_park(item, text)
            except OSError:
                self._done(batch[:n])
                self._put_back(batch[n:])
                raise

    def _write_or_park(self, item: Item, text: str) -> None:
        """Write one event; park it when that fails with anything but an OSError. Raises OSError."""
        try:
            self._write([item], [text])
        except OSError:
            raise
        except Exception:   # noqa: BLE001 - parked, logged
            log.exception("call %s: event %s could not be written; it is kept in the spool",
                          item[0].get("sid"), item[0].get("id"))
            self._park([item])

    def close(self, timeout: float = EXIT_WAIT) -> None:
        """Write what waits (at most `timeout` seconds), then remove the journal when all was
        written; else leave it for another process to adopt."""
        deadline = time.monotonic() + timeout
        try:
            while self.waiting():
                if self.flush_once(max(0.0, deadline - time.monotonic())) and time.monotonic() < deadline:
                    continue
                if time.monotonic() >= deadline or not self.settle(max(0.0, deadline - time.monotonic())):
                    break
        except Exception:  # noqa: BLE001 - logged by flush_once; the journal stays
            pass
        with self._lock:
            done = self._written == self._submitted and not self._queue
            try:
                self.journal.close(remove=done)
            except OSError:
                log.exception("could not close the call event journal")
        if not done:
            log.error("%d call event(s) not written at exit stay in %s for another process to adopt",
                      self.waiting(), self.journal.dir)


def _flusher(ref: "weakref.ref[WriteBehind]", wake: threading.Event) -> None:
    """Write batches while there are any; wait to be woken (or IDLE_WAIT); ends with its owner.
    Should it end otherwise (a bug), its owner's slot is cleared: the next webhook starts another."""
    run_in_slot(lambda: _flush_while_owned(ref, wake), ref, "_lock", "_thread", "the write-behind flusher")


def _flush_while_owned(ref: "weakref.ref[WriteBehind]", wake: threading.Event) -> None:
    while True:
        behind = ref()
        if behind is None:
            return
        try:
            if behind.waiting() and not behind._hurry:
                time.sleep(LINGER)
            while behind.flush_once():   # the last look, finding nothing, empties the journal
                pass
        except Exception:  # noqa: BLE001 - logged; the flusher outlives a full disk and a dead Redis
            wake.wait(RETRY_WAIT)
        del behind
        wake.wait(IDLE_WAIT)
        wake.clear()


def _close_at_exit(ref: "weakref.ref[WriteBehind]") -> None:
    behind = ref()
    if behind is not None:
        behind.close()
