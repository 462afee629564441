"""Who a send goes to now, decided from the journal: the only place that says who is skipped and why.

A real send is resumable exactly once: every targeted recipient is in the journal, those
already `sent` are skipped, those left `sending` by a crash are *unknown* (not resent unless
asked), and `failed` ones are retried only when asked. Planning writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from newsletter.audience.csvfile import Audience
from newsletter.audience.people import Subscriber
from newsletter.audience.recipients import FileRecipients, Recipients
from newsletter.sending.report import SendReport
from newsletter.store.journal import FAILED, SENDING, SENT, Journal

ALREADY_SENT = "already sent"
FAILED_BEFORE = "failed before (see --retry-failed)"
UNKNOWN = "unknown"


@dataclass
class Plan:
    """Who a send goes to now (streamed again on demand), and the report that already counts
    everybody left out and why."""

    report: SendReport
    source: Recipients
    resend_unknown: bool = False
    retry_failed: bool = False
    limit: int | None = None

    def verdict(self, state: str | None) -> str | None:
        if state == SENT:
            return ALREADY_SENT
        if state == SENDING and not self.resend_unknown:
            return UNKNOWN
        if state == FAILED and not self.retry_failed:
            return FAILED_BEFORE
        return None

    def recipients(self) -> Iterator[Subscriber]:
        """The chosen recipients in order (at most `limit`), read again from the source."""
        left = self.report.total
        if left == 0:
            return
        for subscriber, reason, state in self.source.rows(self.report.issue):
            if reason is None and self.verdict(state) is None:
                yield subscriber
                left -= 1
                if left == 0:
                    return

    @property
    def chosen(self) -> list[Subscriber]:
        return list(self.recipients())


def plan(
    journal: Journal,
    issue: str,
    audience: Audience | Recipients,
    *,
    resend_unknown: bool = False,
    retry_failed: bool = False,
    limit: int | None = None,
) -> Plan:
    """Decide from the journal who to send to now, and why not the rest (writes nothing)."""
    source = FileRecipients(audience, journal) if isinstance(audience, Audience) else audience
    report = SendReport(issue=issue, destination="", skipped=Counter(s.reason for s in source.rejected()))
    planned = Plan(report, source, resend_unknown, retry_failed, limit)
    chosen = 0
    for subscriber, reason, state in source.rows(issue):
        verdict = reason or planned.verdict(state)
        if verdict is None:
            chosen += 1
        elif verdict == UNKNOWN:
            report.unknown.append(subscriber.email)
        else:
            report.skipped[verdict] += 1
    report.total = chosen if limit is None else min(chosen, limit)
    report.earlier_unknown = len(report.unknown)
    return planned
