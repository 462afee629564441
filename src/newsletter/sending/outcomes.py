"""What one delivery's outcome does to the journal and the report, and when a retry comes.

A relay's reply decides a recipient's state: `sent` after the 250; `failed` after a permanent
refusal or when the retries are used up; `pending` again for a retry; left `sending`
("unknown") when the relay may have the message but its reply was lost.
"""

from __future__ import annotations

import time

from newsletter.delivery.base import Temporary
from newsletter.delivery.pacing import LoopOptions, Window, backoff
from newsletter.sending.report import MAX_LISTED_FAILURES, SendReport
from newsletter.sending.schedule import Item, Schedule
from newsletter.store.journal import FAILED, PENDING, SENDING, SENT, Journal


class Outcomes:
    """Settles recipients: one place that writes a state to the journal and counts it."""

    def __init__(
        self,
        journal: Journal,
        report: SendReport,
        schedule: Schedule,
        window: Window,
        options: LoopOptions,
        *,
        record: bool,
    ) -> None:
        self.journal = journal
        self.report = report
        self.schedule = schedule
        self.window = window
        self.options = options
        self.record = record  # a test send counts in the report but writes no recipient state
        self.issue = report.issue

    def settle(self, email: str, state: str, reply: str) -> None:
        if self.record:
            self.journal.settle(self.issue, email, state, reply)

    def sent(self, email: str, reply: str, size: int) -> None:
        self.settle(email, SENT, reply)
        self.report.sent += 1
        self.report.bytes += size
        self.window.succeeded()

    def failed(self, email: str, reply: str) -> None:
        self.settle(email, FAILED, reply)
        self.report.failed += 1
        if len(self.report.failures) < MAX_LISTED_FAILURES:
            self.report.failures.append((email, reply))

    def unknown(self, email: str, reply: str) -> None:
        """The relay may have it: left `sending`, never resent without `--resend-unknown`."""
        self.settle(email, SENDING, reply)
        self.report.unknown.append(email)

    def spent(self, item: Item, reply: str) -> None:
        """Nothing was sent (the connection was used up): again at once, on a fresh connection."""
        self.settle(item.subscriber.email, PENDING, reply)
        self.schedule.retry(item)

    def temporary(self, item: Item, exc: Temporary) -> None:
        """A 4xx: again later with backoff, or failed once the attempts or the deadline are used up."""
        email = item.subscriber.email
        # A fault that is part of a cluster (the relay throttling) does not use up attempts.
        if not (exc.fault and self.window.fault()):
            item.tries += 1
        late = time.monotonic() - item.first_try > self.options.retry_deadline
        if item.tries >= self.options.retry_attempts or late:
            self.failed(email, exc.reply)
            return
        self.settle(email, PENDING, exc.reply)
        # A recipient's own trouble (a full mailbox) backs off exponentially; a relay fault says
        # nothing about the recipient, and the window already slows the send if faults cluster,
        # so it is retried after the base delay (a sporadic fault must not leave a long tail).
        self.schedule.retry(item, backoff(1 if exc.fault else max(1, item.tries), self.options.retry_delay))
        self.report.retried += 1
