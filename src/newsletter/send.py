"""The send: plan who gets an issue from the journal, then run the delivery loop.

A real send is resumable exactly once: every targeted recipient is in the journal, those
already `sent` are skipped, those left `sending` by a crash are *unknown* (not resent unless
asked), and `failed` ones are retried only when asked. A test send (`--to`) goes through the
same loop but is recorded only as a run, never as the issue's delivery.

Nothing here writes to the terminal: progress leaves through a callback the CLI hands in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from newsletter.audience import Audience, Subscriber
from newsletter.compose import Composed, ComposedEdition
from newsletter.delivery.base import Backend
from newsletter.delivery.relays import SmtpSettings
from newsletter.errors import InputError
from newsletter.publish.webcopy import web_copy
from newsletter.recipients import FileRecipients, Recipients
from newsletter.sendloop import LoopOptions, Progress, SendLoop, SendReport, install_signals
from newsletter.store import now, snapshots
from newsletter.store.journal import FAILED, SENDING, SENT, Journal

ALREADY_SENT = "already sent"
FAILED_BEFORE = "failed before (see --retry-failed)"
UNKNOWN = "unknown"

__all__ = [
    "LoopOptions",
    "Plan",
    "Progress",
    "SendReport",
    "dry_run",
    "keep_snapshot",
    "loop_options",
    "plan",
    "send_issue",
    "test_send",
]


def dry_run(composed: Composed, planned: Plan) -> SendReport:
    """Build and check every message the plan would send; nothing is sent or recorded. The
    report reads the journal like a real send: already sent, unknown, failed before."""
    report = planned.report
    report.destination = "nowhere (dry run)"
    report.dry_run = True
    started = time.perf_counter()
    for subscriber in planned.recipients():
        try:
            report.bytes += len(composed.factory.build(subscriber).data)
        except (InputError, ValueError, UnicodeError) as exc:  # counted, as the real send would
            report.failed += 1
            report.failures.append((subscriber.email, f"message not built: {exc}"))
            continue
        report.sent += 1
    report.elapsed = time.perf_counter() - started
    return report


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


def keep_snapshot(composed: Composed, journal: Journal) -> str | None:
    """Keep the web copy of what this send sends, for the archive of record, unless an earlier
    run of the issue kept one that reached somebody. Returns a warning when this run's content
    differs from it (edited mid-send: recipients get two versions; the archive keeps the first)."""
    copy = web_copy(composed)
    counts = journal.counts(copy.issue)
    stored, written = snapshots.keep(journal.db, copy, now(), replace=not (counts[SENT] or counts[SENDING]))
    if written or stored.content_hash == copy.content_hash:
        return None
    return (
        f"{copy.issue} has changed since its first send kept its copy at {stored.taken_at}: this run "
        "sends the edited version, so recipients get two versions (the archive shows the first)"
    )


def send_issue(
    composed: Composed,
    planned: Plan,
    backend: Backend,
    journal: Journal,
    options: LoopOptions,
    *,
    progress: Progress | None = None,
    not_after: dt.datetime | None = None,
    guard: Callable[[], str | None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> SendReport:
    """Send the issue to the planned recipients, recording each in the journal. No recipient
    is started after `not_after`; `guard` says why the send must stop (its lock was lost).

    Before the first message, the issue's snapshot is kept (`keep_snapshot`); `warn` hears, once,
    that the content differs from an earlier run's. A run with nobody left to send to keeps
    none: it sends nothing."""
    issue = composed.issue.slug
    report = planned.report
    report.destination = backend.describe()
    if report.total and (warning := keep_snapshot(composed, journal)) is not None and warn is not None:
        warn(warning)
    planned.source.record(journal, issue)
    run = journal.start_run(issue, "send", report.destination)
    loop = SendLoop(
        composed.factory,
        backend,
        journal,
        options,
        report,
        record=True,
        progress=progress,
        not_after=not_after,
        guard=guard,
    )
    try:
        asyncio.run(_with_signals(loop, planned.recipients()))
    finally:
        journal.finish_run(run, report.record())
    return report


def test_send(
    composed: Composed,
    addresses: Sequence[str],
    backend: Backend,
    journal: Journal,
    options: LoopOptions,
    *,
    progress: Progress | None = None,
    not_after: dt.datetime | None = None,
    edition: ComposedEdition | None = None,
) -> SendReport:
    """Send the real message (subject unchanged) to `addresses` only; recorded as a test run.
    `edition` chooses a ward edition (staff test each one); by default, the edition for everyone."""
    issue = composed.issue.slug
    ward = edition if edition is not None and edition.edition.key else None
    report = SendReport(
        issue=issue,
        destination=backend.describe(),
        test=True,
        total=len(addresses),
        edition=ward.edition.label if ward is not None else "",
    )
    run = journal.start_run(
        issue,
        "test",
        report.destination,
        ", ".join(addresses) + (f" (edition {ward.edition.key})" if ward is not None else ""),
    )
    factory = ward.factory if ward is not None else composed.factory
    loop = SendLoop(factory, backend, journal, options, report, record=False, progress=progress, not_after=not_after)
    try:
        asyncio.run(_with_signals(loop, iter([Subscriber(email=a) for a in addresses])))
    finally:
        journal.finish_run(run, report.record())
    return report


async def _with_signals(loop: SendLoop, recipients: Iterator[Subscriber]) -> None:
    with install_signals(loop):
        await loop.run(recipients)


def loop_options(smtp: SmtpSettings | None) -> LoopOptions:
    """The loop's pacing: the SMTP settings' own, or one worker and no pacing for the outbox."""
    return smtp.loop if smtp is not None else LoopOptions(connections=1)
