"""The send loop: the audience through the message factory into a delivery backend.

Nothing here writes to the terminal: progress leaves through a callback the CLI hands in.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from newsletter.audience import Audience, Subscriber
from newsletter.compose import Composed
from newsletter.message import OutgoingMessage


class Backend(Protocol):
    name: str

    def describe(self) -> str: ...

    def deliver(self, message: OutgoingMessage) -> str: ...


@dataclass
class SendReport:
    """What a send (or a dry run) did, for the closing summary."""

    issue: str
    destination: str
    dry_run: bool
    targeted: int = 0
    sent: int = 0
    failed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


Progress = Callable[[SendReport], None]


def recipients(audience: Audience, limit: int | None) -> Iterable[Subscriber]:
    subscribers = audience.subscribers
    return subscribers if limit is None else subscribers[:limit]


def send_issue(
    composed: Composed,
    audience: Audience,
    backend: Backend | None,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Build every message and hand it to `backend`; with no backend this is a dry run."""
    report = SendReport(
        issue=composed.issue.slug,
        destination=backend.describe() if backend else "nowhere (dry run)",
        dry_run=backend is None,
        skipped=audience.counts(),
    )
    started = time.perf_counter()
    for subscriber in recipients(audience, limit):
        report.targeted += 1
        message = composed.factory.build(subscriber)
        report.bytes += len(message.data)
        if backend is not None:
            backend.deliver(message)
        report.sent += 1
        if progress is not None and report.sent % 100 == 0:
            progress(report)
    report.elapsed = time.perf_counter() - started
    return report
