"""Journal batching: many recipients' states share one commit, and a worker waits only for its own.

A worker must know its recipient's `sending` state is durable before the body goes out (so a
crash leaves that recipient "unknown", never resent). Committing once per recipient would cap
the send at the disk's commit rate; so workers ask for a commit and wait, and whoever asks
within the same turn of the event loop shares it. Outcomes are committed at least every
`interval` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib

from newsletter.errors import DeliveryError
from newsletter.store.journal import Journal


class JournalCommitter:
    """Commits the journal's buffer when a worker waits for it, and at least every interval."""

    def __init__(self, journal: Journal, interval: float) -> None:
        self.journal = journal
        self.interval = interval
        self.waiters: list[asyncio.Future[None]] = []
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            self.flush()

    def flush(self) -> None:
        waiters, self.waiters = self.waiters, []
        try:
            self.journal.flush()
        except DeliveryError as exc:
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
