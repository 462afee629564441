"""What a send did: the counts, the failures and how it ended, for progress and the summary."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.errors import DeliveryError

MAX_LISTED_FAILURES = 1000


@dataclass
class SendReport:
    """What a send (or a dry run, or a test send) did, for progress and the closing summary."""

    issue: str
    destination: str
    dry_run: bool = False
    test: bool = False
    total: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unknown: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    bytes: int = 0
    elapsed: float = 0.0
    interrupted: int | None = None  # the signal that stopped the send
    error: DeliveryError | None = None
    late: str | None = None  # the --not-after time, when the send stopped at it
    earlier_unknown: int = 0  # of `unknown`, those left by an earlier send (not tried in this one)
    edition: str = ""  # a test copy's ward edition (its wards), when not the edition for everyone

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def new_unknown(self) -> int:
        return len(self.unknown) - self.earlier_unknown

    @property
    def pending(self) -> int:
        """Recipients of this run not yet tried, or waiting for a retry, when it ended."""
        return 0 if self.dry_run else max(0, self.total - self.done - self.new_unknown)

    def outcome(self) -> str:
        if self.error is not None:
            return f"stopped: {self.error}"
        if self.interrupted is not None:
            return f"interrupted by {signal.Signals(self.interrupted).name}"
        if self.late is not None:
            return f"stopped at --not-after {self.late}"
        return "complete" if not self.pending else "stopped"

    def record(self) -> str:
        """The outcome with the counts, as the journal keeps it for each run."""
        return f"{self.outcome()}: {self.sent} sent, {self.failed} failed, {len(self.unknown)} unknown"


Progress = Callable[[SendReport], None]


async def tick(progress: Progress, report: SendReport, interval: float, started: float) -> None:
    """Hand the report to `progress` every `interval` seconds while the send runs."""
    while True:
        await asyncio.sleep(interval)
        report.elapsed = time.perf_counter() - started
        progress(report)
