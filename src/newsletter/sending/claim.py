"""A worker's share of a send: recipients claimed from the database in batches, and the pacing
every worker of a relay shares (`store.claims` holds the SQL and says why it is safe).

`Claims.recipients` is the send loop's stream for a worker: it claims a batch, yields its people,
and when nothing is free it waits while other workers still hold rows (their claims come back
when their leases end), and ends when nothing is left or the send has ended. `Claims.keep`
renews the leases of what this worker holds, and passes throttling on: a pause one worker's
window takes is written to the database, and every worker of that relay takes it too.
`SharedPacer` grants send slots from the database, so the rate and the hourly budget are those
of all workers together.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from newsletter.audience.people import Subscriber
from newsletter.delivery.pacing import Pacer, Window
from newsletter.errors import DeliveryError
from newsletter.sending.report import SendReport
from newsletter.store import claims
from newsletter.store.connection import DatabaseError, is_transient
from newsletter.store.journal import PATIENCE, Journal
from newsletter.store.subscribers import split_tags

T = TypeVar("T")
POLL = 0.2  # seconds between looks at the database while other workers hold the rest


class Claims:
    """One worker's claims on one send (`job`), through the worker's journal connection."""

    def __init__(
        self, journal: Journal, job: int, *, lease: float, batch: int, alive: Callable[[], bool], report: SendReport
    ) -> None:
        assert journal.claimant is not None, "a worker's journal names its claimant"
        self.journal = journal
        self.worker = journal.claimant
        self.job = job
        self.lease = lease
        self.batch = batch
        self.alive = alive  # False once the send has ended (its coordinator's lock is gone)
        self.report = report

    def _db(self, work: Callable[[], T]) -> T:
        """One database step, waiting out a database that restarts (`store.journal.PATIENCE`)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                return work()
            except DatabaseError as exc:
                if not is_transient(exc) or time.monotonic() > deadline:
                    raise DeliveryError(f"{self.journal.db.where}: cannot claim recipients: {exc}") from exc
                self.journal.reconnect(deadline)

    async def recipients(self) -> AsyncIterator[Subscriber]:
        while True:
            got = self._db(lambda: claims.claim(self.journal.db, self.job, self.worker, self.batch, self.lease))
            if got.skipped:
                self.report.skipped[claims.UNSUBSCRIBED_SINCE] += len(got.skipped)
            for email, first, last, ward, tags, consented in got.people:
                self.report.total += 1
                yield Subscriber(email, first, last, ward, split_tags(tags), _date(consented))
            if got.people or got.skipped:
                continue
            left = self._db(lambda: claims.left(self.journal.db, self.job))
            if left.pending == 0 or not self._db(self.alive):
                return
            await asyncio.sleep(POLL)  # others hold the rest: theirs come back if their leases end

    async def keep(self, window: Window, relay: str) -> None:
        """Renew this worker's leases (every third of a lease) and share throttling (every POLL)."""
        renewed = time.monotonic()
        published = 0.0
        while True:
            await asyncio.sleep(POLL)
            with contextlib.suppress(DeliveryError):
                if time.monotonic() - renewed > self.lease / 3:
                    self._db(lambda: claims.renew(self.journal.db, self.worker, self.lease))
                    renewed = time.monotonic()
                if window.throttled and window.resume_at > published:
                    published = window.resume_at
                    self._db(functools.partial(self._throttle, relay, published - time.monotonic()))
                    continue
                pause = self._db(lambda: claims.paused(self.journal.db, relay))
                if pause > 0 and time.monotonic() + pause > window.resume_at + 0.05:
                    window.resume_at = published = time.monotonic() + pause
                    window.limit, window.credit = 1, 0.0

    def _throttle(self, relay: str, seconds: float) -> None:
        claims.throttle(self.journal.db, relay, seconds)

    def reserve(self, relay: str, wanted: int, interval: float, hourly: int | None) -> tuple[float, int]:
        return self._db(lambda: claims.reserve(self.journal.db, relay, wanted, interval, hourly))

    def release(self) -> None:
        """Give back what this worker claimed and never started (it stops early)."""
        with contextlib.suppress(DeliveryError):
            self._db(lambda: claims.release(self.journal.db, self.worker))


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


class SharedPacer(Pacer):
    """The relay's rate and hourly budget for all workers together: slots are reserved from the
    database a few at a time (about a second's worth), then handed out here at the rate."""

    def __init__(self, claims_: Claims, relay: str, *, rate: float | None, hourly_limit: int | None) -> None:
        super().__init__()
        self.claims = claims_
        self.relay = relay
        self.interval = 1.0 / rate if rate else 0.0
        self.hourly_limit = hourly_limit
        self.block = max(1, min(20, int(rate))) if rate else 20
        self.slots: deque[float] = deque()

    async def acquire(self, stop: asyncio.Event) -> bool:
        async with self._lock:
            while not self.slots:
                delay, granted = self.claims.reserve(self.relay, self.block, self.interval, self.hourly_limit)
                if granted:
                    start = time.monotonic() + delay
                    self.slots.extend(start + i * self.interval for i in range(granted))
                elif await _stopped(stop, min(delay, 5.0)):
                    return False
            wait = self.slots.popleft() - time.monotonic()
            if wait > 0 and await _stopped(stop, wait):
                return False
        return not stop.is_set()


async def _stopped(stop: asyncio.Event, delay: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        return False
    return True
