"""Journal batching: many recipients' states share one commit, and a worker waits only for its own.

A worker must know its recipient's `sending` state is durable before the body goes out (so a
crash leaves that recipient "unknown", never resent). Committing once per recipient would cap
the send at the disk's commit rate; so workers ask for a commit and wait, and whoever asks
while a commit is under way shares the next one. Outcomes are committed at least every
`interval` seconds.

The commits run in one writer thread with its own connection (`JournalWriter`), never on the
event loop: a slow commit (an fsync, a database busy with another writer, a PostgreSQL round
trip) holds up only the workers waiting for it, while every other connection's replies are
still read and settled into the buffer for the next commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

from newsletter.delivery.pacing import backoff
from newsletter.errors import DeliveryError
from newsletter.store import Connection, Location, StorageError, connect
from newsletter.store.connection import is_transient, reason, shown
from newsletter.store.journal import PATIENCE, Journal, Write, commit_writes


class JournalWriter:
    """One thread that owns one connection to the journal and commits what it is given, in order
    (a store connection is used by one thread at a time: this one is opened, used and closed by
    the writer thread only)."""

    def __init__(self, location: Location, patience: float = PATIENCE) -> None:
        self.location = location
        self.patience = patience  # seconds an outage may last, in all, before the send stops
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-writer")
        self._db: Connection | None = None
        self._down_since: float | None = None  # when the database stopped answering (None: it answers)

    def _commit(self, journal: Journal) -> None:
        # Read and trimmed here, in the writer thread, so that commits follow one another in
        # order even when a coroutine waiting for one is cancelled: nothing is committed twice.
        # The event loop only appends to the buffer meanwhile (each list operation is atomic).
        writes = journal.buffered()
        if not writes:
            return
        lost = self._write(writes)
        journal.committed(len(writes), lost)

    def _write(self, writes: list[Write]) -> list[str]:
        """Commit `writes`, waiting out a database that restarts: a transient failure (the server
        gone, refusing connections while it starts, a busy file) closes the connection and tries
        again on a new one, backing off up to two seconds, until the outage has lasted `patience`
        seconds in all; then, and on any other failure, DeliveryError in one line. The writes are
        the same each time, so a commit that failed is tried again whole or not at all; until it
        succeeds the workers waiting for it send no body."""
        tries = 0
        while True:
            try:
                if self._db is None:
                    self._db = connect(self.location)
                lost = commit_writes(self._db, self.location, writes)
                self._down_since = None
                return lost
            except (DeliveryError, StorageError) as exc:
                cause = exc.__cause__
                if cause is None or not is_transient(cause):
                    raise DeliveryError(str(exc)) from exc
                self._forget()
                now = time.monotonic()
                self._down_since = self._down_since or now
                if now - self._down_since >= self.patience:
                    raise DeliveryError(
                        f"{shown(self.location)}: the database did not answer for {self.patience:g} s; "
                        f"the send stops, unsent recipients stay pending: {reason(cause)}"
                    ) from exc
                tries += 1
                time.sleep(min(backoff(tries, 0.1, 2.0), self._down_since + self.patience - now))

    def _forget(self) -> None:
        """Close a connection that failed (its server may be gone); the next try opens another."""
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()
            self._db = None

    async def commit(self, journal: Journal) -> None:
        """Commit everything `journal` has buffered by the time the writer thread gets to it."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._commit, journal)

    def _close(self) -> None:
        self._forget()

    def close(self) -> None:
        """Wait for a commit under way, close the connection, end the thread."""
        self._thread.submit(self._close)
        self._thread.shutdown(wait=True)


class JournalCommitter:
    """Commits the journal's buffer when a worker waits for it, and at least every interval."""

    def __init__(self, journal: Journal, interval: float) -> None:
        self.journal = journal
        self.interval = interval
        self.waiters: list[asyncio.Future[None]] = []
        self.wake = asyncio.Event()
        self.writer = JournalWriter(journal.path)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Commit what is buffered and answer the workers waiting for it (their `sending` marks
        were buffered before they asked); writes and waiters that arrive meanwhile go into the
        next commit."""
        waiters, self.waiters = self.waiters, []
        try:
            await self.writer.commit(self.journal)
        except Exception as exc:
            # Never raised here: `run` must go on committing for the workers that wait. The
            # waiters raise it (a DeliveryError stops the send in one line; anything else is a bug
            # the loop shows); what is buffered stays for the journal's own last flush.
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def committed(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        self.wake.set()
        await waiter

    def close(self) -> None:
        """End the writer thread (after a commit under way); what is still buffered is the
        journal's to commit (`Journal.flush`, on its own connection)."""
        self.writer.close()
