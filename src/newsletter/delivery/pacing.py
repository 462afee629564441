"""Pacing shared by every connection: a token bucket, an hourly cap, batches, and throttling.

One `Pacer` serves all workers, so `SMTP_RATE` is the rate of the whole send, however many
connections share it. A relay that answers 421/450/451/454 pauses everybody with a growing
delay instead of each connection burning its retries.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LoopOptions:
    """How hard to push: connections, pacing, and how long to keep retrying a recipient.

    The outbox uses the defaults; SMTP settings carry their own (`SmtpSettings.loop`).
    """

    connections: int = 1
    rate: float | None = None
    hourly_limit: int | None = None
    batch_size: int = 100
    batch_pause: float = 0.0
    retry_attempts: int = 5
    retry_delay: float = 2.0
    retry_deadline: float = 3600.0
    commit_interval: float = 0.1
    progress_interval: float = 0.25


class Pacer:
    """Grants one message at a time: the rate, the hourly cap, batch pauses, throttle pauses."""

    def __init__(self, *, rate: float | None = None, hourly_limit: int | None = None, batch_size: int = 100,
                 batch_pause: float = 0.0, throttle_delay: float = 2.0, throttle_max: float = 300.0) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.hourly: deque[float] | None = deque(maxlen=hourly_limit) if hourly_limit else None
        self.batch_size = batch_size
        self.batch_pause = batch_pause
        self.throttle_delay = throttle_delay
        self.throttle_max = throttle_max
        self._next = 0.0
        self._granted = 0
        self._throttles = 0
        self._lock = asyncio.Lock()

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait for this message's slot; False if the send is being stopped meanwhile."""
        async with self._lock:  # slots are handed out in order, so waits never overlap
            while True:
                now = time.monotonic()
                slot = max(now, self._next)
                if self.hourly is not None and len(self.hourly) == self.hourly.maxlen:
                    slot = max(slot, self.hourly[0] + 3600.0)
                if slot <= now:
                    break
                if await _stopped(stop, slot - now):
                    return False
            if stop.is_set():
                return False
            self._granted += 1
            self._next = max(now, self._next) + self.interval
            if self.batch_pause and self._granted % self.batch_size == 0:
                self._next += self.batch_pause
            if self.hourly is not None:
                self.hourly.append(now)
        return True

    def throttled(self) -> float:
        """The relay asked us to slow down: pause every connection, longer each time in a row."""
        delay = min(self.throttle_max, self.throttle_delay * 2.0 ** min(self._throttles, 16))
        delay *= random.uniform(0.8, 1.2)
        self._throttles += 1
        self._next = max(self._next, time.monotonic() + delay)
        return delay

    def succeeded(self) -> None:
        self._throttles = 0


def backoff(attempt: int, base: float, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter for a recipient's next attempt."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2.0 ** max(0, attempt - 1))


async def _stopped(stop: asyncio.Event, delay: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        return False
    return True
