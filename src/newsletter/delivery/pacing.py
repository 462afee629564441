"""Pacing shared by every connection: the rate, an hourly cap, batches (`Pacer`), and how
many deliveries may be under way at once, adjusted by the relay's feedback (`Window`).

One `Pacer` and one `Window` serve all workers, so `SMTP_RATE` is the rate of the whole send,
however many connections share it.
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

    def __init__(
        self,
        *,
        rate: float | None = None,
        hourly_limit: int | None = None,
        batch_size: int = 100,
        batch_pause: float = 0.0,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.hourly: deque[float] | None = deque(maxlen=hourly_limit) if hourly_limit else None
        self.batch_size = batch_size
        self.batch_pause = batch_pause
        self._next = 0.0
        self._granted = 0
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


class Window:
    """How many deliveries may be under way at once, adjusted by feedback from the relay.

    Modelled on Postfix's destination concurrency feedback (SCHEDULER_README): each delivery
    that succeeds adds 1/limit to a credit and each relay fault (a "slow down" reply, a
    dropped connection, a timeout) takes 1/limit away; a whole unit of credit moves the limit
    by one, so the limit falls by one per failed cohort (as many faults as deliveries allowed)
    and climbs back one step per `limit` successes. A sporadic fault only costs its own
    recipient a retry. The relay counts as throttling only when faults cluster: a whole cohort
    (at least two) in a row with no success between. Then everybody waits (2 s, doubling while it lasts, up
    to `pause_max`) and the send resumes with one delivery at a time.
    """

    def __init__(self, maximum: int, *, pause: float = 2.0, pause_max: float = 60.0) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.pause = pause
        self.pause_max = pause_max
        self.active = 0
        self.credit = 0.0
        self.faults_in_row = 0
        self.pauses_in_row = 0
        self.resume_at = 0.0
        self.changed = asyncio.Event()

    @property
    def throttled(self) -> bool:
        return time.monotonic() < self.resume_at

    async def enter(self, stop: asyncio.Event) -> bool:
        """Wait for a free place in the window; False if the send stops meanwhile."""
        while not stop.is_set():
            wait = self.resume_at - time.monotonic()
            if wait <= 0 and self.active < self.limit:
                self.active += 1
                return True
            self.changed.clear()
            if await _stopped_or(stop, self.changed, wait if wait > 0 else None):
                return False
        return False

    def leave(self) -> None:
        self.active -= 1
        self._wake()

    def succeeded(self) -> None:
        self.faults_in_row = 0
        self.pauses_in_row = 0
        self.credit += 1.0 / self.limit
        if self.credit >= 1.0:
            self.credit = 0.0
            self.limit = min(self.maximum, self.limit + 1)
            self._wake()

    def fault(self) -> bool:
        """Record a relay fault; True if it belongs to a cluster (the relay is throttling), in
        which case it should not use up the recipient's attempts."""
        clustered = self.faults_in_row > 0 or self.pauses_in_row > 0 or self.throttled
        self.faults_in_row += 1
        self.credit -= 1.0 / self.limit
        if self.credit <= -1.0:
            self.credit = 0.0
            self.limit = max(1, self.limit - 1)
        # A cohort is as many faults as deliveries allowed, but never a lone fault: one
        # connection's single 4xx is not a cluster.
        if self.faults_in_row >= max(2, self.limit) and not self.throttled:
            delay = min(self.pause_max, self.pause * 2.0 ** min(self.pauses_in_row, 16)) * random.uniform(0.9, 1.1)
            self.pauses_in_row += 1
            self.faults_in_row = 0
            self.limit = 1
            self.credit = 0.0
            self.resume_at = time.monotonic() + delay
        return clustered

    def _wake(self) -> None:
        self.changed.set()


def backoff(attempt: int, base: float, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter for a recipient's next attempt."""
    return random.uniform(0.5, 1.0) * min(cap, base * 2.0 ** max(0, attempt - 1))


async def _stopped(stop: asyncio.Event, delay: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        return False
    return True


async def _stopped_or(stop: asyncio.Event, other: asyncio.Event, timeout: float | None) -> bool:
    """Wait for `stop`, `other` or the timeout; True only if `stop` was set."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
    return stop.is_set()
