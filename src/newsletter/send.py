"""The send: plan who gets an issue from the journal, then run the delivery loop.

A real send is resumable exactly once: every targeted recipient is in the journal, those
already `sent` are skipped, those left `sending` by a crash are *unknown* (not resent unless
asked), and `failed` ones are retried only when asked. A test send (`--to`) goes through the
same loop but is recorded only as a run, never as the issue's delivery.

Nothing here writes to the terminal: progress leaves through a callback the CLI hands in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from newsletter.audience import DUPLICATE, Audience, Subscriber
from newsletter.compose import Composed
from newsletter.delivery.base import Backend
from newsletter.delivery.relays import SmtpSettings
from newsletter.errors import InputError
from newsletter.journal import FAILED, SENDING, SENT, Journal
from newsletter.sendloop import LoopOptions, Progress, SendLoop, SendReport, install_signals

ALREADY_SENT = "already sent"
FAILED_BEFORE = "failed before (see --retry-failed)"

__all__ = [
    "LoopOptions", "Plan", "Progress", "SendReport", "dry_run", "loop_options", "plan", "send_issue", "test_send",
]


def dry_run(composed: Composed, audience: Audience, *, limit: int | None = None) -> SendReport:
    """Build and check every message; nothing is sent or recorded."""
    report = SendReport(issue=composed.issue.slug, destination="nowhere (dry run)", dry_run=True,
                        skipped=audience.counts())
    started = time.perf_counter()
    subscribers = audience.subscribers if limit is None else audience.subscribers[:limit]
    for subscriber in subscribers:
        try:
            report.bytes += len(composed.factory.build(subscriber).data)
        except (InputError, ValueError, UnicodeError) as exc:  # counted, as the real send would
            report.failed += 1
            report.failures.append((subscriber.email, f"message not built: {exc}"))
            continue
        report.sent += 1
    report.total = report.sent
    report.elapsed = time.perf_counter() - started
    return report


@dataclass
class Plan:
    """Who a send would go to now, and the report that already counts everybody left out."""

    chosen: list[Subscriber]
    report: SendReport
    audience: Audience


def plan(journal: Journal, issue: str, audience: Audience, *, resend_unknown: bool = False,
         retry_failed: bool = False, limit: int | None = None) -> Plan:
    """Decide from the journal who to send to now, and why not the rest (writes nothing)."""
    settled = journal.settled_states(issue)
    report = SendReport(issue=issue, destination="", skipped=audience.counts())
    chosen: list[Subscriber] = []
    for subscriber in audience.subscribers:
        state = settled.get(subscriber.email.lower())
        if state == SENT:
            report.skipped[ALREADY_SENT] += 1
        elif state == SENDING and not resend_unknown:
            report.unknown.append(subscriber.email)
        elif state == FAILED and not retry_failed:
            report.skipped[FAILED_BEFORE] += 1
        else:
            chosen.append(subscriber)
    if limit is not None:
        del chosen[limit:]
    report.total = len(chosen)
    return Plan(chosen, report, audience)


def _record_audience(journal: Journal, issue: str, audience: Audience) -> None:
    """Every targeted recipient as pending (if new), every one left out with its reason."""
    eligible = {s.email.lower() for s in audience.subscribers}
    skipped = [(s.email, s.reason) for s in audience.skipped
               if s.reason != DUPLICATE and s.email and s.email.lower() not in eligible]
    journal.prepare(issue, (s.email for s in audience.subscribers), skipped)


def send_issue(composed: Composed, planned: Plan, backend: Backend, journal: Journal, options: LoopOptions,
               *, progress: Progress | None = None) -> SendReport:
    """Send the issue to the planned recipients, recording each in the journal."""
    issue = composed.issue.slug
    report = planned.report
    report.destination = backend.describe()
    _record_audience(journal, issue, planned.audience)
    run = journal.start_run(issue, "send", report.destination)
    loop = SendLoop(composed.factory, backend, journal, options, report, record=True, progress=progress)
    try:
        asyncio.run(_with_signals(loop, iter(planned.chosen)))
    finally:
        journal.finish_run(run, report.outcome())
    return report


def test_send(composed: Composed, addresses: Sequence[str], backend: Backend, journal: Journal,
              options: LoopOptions, *, progress: Progress | None = None) -> SendReport:
    """Send the real message (subject unchanged) to `addresses` only; recorded as a test run."""
    issue = composed.issue.slug
    report = SendReport(issue=issue, destination=backend.describe(), test=True, total=len(addresses))
    run = journal.start_run(issue, "test", report.destination, ", ".join(addresses))
    loop = SendLoop(composed.factory, backend, journal, options, report, record=False, progress=progress)
    try:
        asyncio.run(_with_signals(loop, iter([Subscriber(email=a) for a in addresses])))
    finally:
        journal.finish_run(run, report.outcome())
    return report


async def _with_signals(loop: SendLoop, recipients: Iterator[Subscriber]) -> None:
    with install_signals(loop):
        await loop.run(recipients)


def loop_options(smtp: SmtpSettings | None) -> LoopOptions:
    """The loop's pacing: the SMTP settings' own, or one worker and no pacing for the outbox."""
    return smtp.loop if smtp is not None else LoopOptions(connections=1)
