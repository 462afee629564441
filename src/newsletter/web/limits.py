"""Limits against floods of signups: per client address (in memory) and per email address.

Per IP: at most N signups in any hour, counted in this process (`newsletter serve` is one
process); the table is bounded so a flood from many addresses cannot grow it without end.
Per email address: `Claims` lets one confirmation be in flight at a time; the time of the last
one sent is in the database (`confirmation_sent_at`), so the period survives a restart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class WindowLimit:
    """At most `limit` events per key in any `period` seconds."""

    def __init__(self, limit: int, period: float, *, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self.max_keys = max_keys
        self.clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and not counted) when it is over the limit."""
        now = self.clock()
        with self._lock:
            times = self._seen.get(key)
            if times is None:
                times = self._seen[key] = deque()
                while len(self._seen) > self.max_keys:
                    self._seen.popitem(last=False)  # the longest-known key goes first
            while times and now - times[0] >= self.period:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (at least 1)."""
        with self._lock:
            times = self._seen.get(key)
            oldest = times[0] if times else self.clock()
        return max(1, int(self.period - (self.clock() - oldest)) + 1)


class Claims:
    """Addresses with a confirmation being sent right now (so two requests at once send one)."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, key: str) -> Iterator[bool]:
        with self._lock:
            mine = key not in self._held
            self._held.add(key)
        try:
            yield mine
        finally:
            if mine:
                with self._lock:
                    self._held.discard(key)
