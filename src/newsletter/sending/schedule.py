"""Which recipient a worker takes next: a retry that is due, else the next from the stream.

The stream is read through a bounded queue (a few recipients per lane), so memory stays flat
however long the list. Retries wait in a heap ordered by when they are due. The schedule also
says when the send must stop taking recipients: a signal, the `--not-after` time, or a guard
that reports a lost send lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

from newsletter.audience.people import Subscriber
from newsletter.errors import DeliveryError
from newsletter.sending.report import SendReport

POLL = 0.05  # the longest a worker waits before looking at the stop conditions again


@dataclass(eq=False)
class Item:
    """One recipient in the schedule, with its attempts so far."""

    subscriber: Subscriber
    first_try: float = 0.0
    tries: int = 0  # tries that count against the retry limit (throttling does not)


class Schedule:
    """The recipients still to try, shared by every worker of one send."""

    def __init__(
        self,
        lanes: int,
        report: SendReport,
        *,
        not_after: dt.datetime | None = None,
        guard: Callable[[], str | None] | None = None,
    ) -> None:
        self.report = report
        self.not_after = not_after  # take no new recipient after this time (a scheduled send started late)
        self.guard = guard  # says why the send must stop (the send lock was lost), or None
        self.stop = asyncio.Event()
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=4 * lanes)
        self.retries: list[tuple[float, int, Item]] = []
        self.active = 0  # recipients a worker has taken and not yet settled
        self.feed_done = False
        self._sequence = 0

    async def feed(self, recipients: Iterator[Subscriber] | AsyncIterator[Subscriber]) -> None:
        """Move the stream into the queue as workers make room; stops early when the send stops.
        The stream is the plan (a single send) or the claims of a worker sharing a send."""
        try:
            if isinstance(recipients, AsyncIterator):
                async for subscriber in recipients:
                    if self.stop.is_set():
                        return
                    await self.queue.put(Item(subscriber))
                return
            for subscriber in recipients:
                if self.stop.is_set():
                    return
                await self.queue.put(Item(subscriber))
        finally:
            self.feed_done = True

    def retry(self, item: Item, delay: float = 0.0) -> None:
        """Try `item` again after `delay` seconds (0: as soon as a worker is free)."""
        self._sequence += 1
        heapq.heappush(self.retries, (time.monotonic() + delay, self._sequence, item))

    def must_stop(self) -> bool:
        if self.not_after is not None and time.time() > self.not_after.timestamp():
            self.report.late = self.not_after.isoformat(timespec="minutes")
            self.stop.set()
        elif self.guard is not None and (reason := self.guard()) is not None:
            if self.report.error is None:
                self.report.error = DeliveryError(reason)
            self.stop.set()
        return self.stop.is_set()

    async def next(self) -> Item | None:
        """The next recipient to try, or None when nothing is left or the send stops."""
        while not self.must_stop():
            now = time.monotonic()
            if self.retries and self.retries[0][0] <= now:
                return heapq.heappop(self.retries)[2]
            if not self.queue.empty():
                return self.queue.get_nowait()
            # Done only when no worker holds a recipient: one in flight may still come back as a retry.
            if self.feed_done and not self.retries and self.active == 0:
                return None
            wait = min(POLL, self.retries[0][0] - now) if self.retries else POLL
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(self.queue.get(), max(wait, 0.001))
        return None
