"""Running a planned send: the real send, a test send to a few addresses, or a dry run.

A real send keeps the issue's web copy, records the run, and streams the plan's recipients
through the delivery loop with SIGINT/SIGTERM handled. A test send (`--to`) goes through the
same loop but is recorded only as a run, never as the issue's delivery.

Nothing here writes to the terminal: progress leaves through a callback the CLI hands in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import time
from collections.abc import Callable, Iterator, Sequence

from newsletter.audience.people import Subscriber
from newsletter.delivery.base import Backend
from newsletter.delivery.pacing import LoopOptions
from newsletter.delivery.relays import SmtpSettings
from newsletter.errors import InputError
from newsletter.mail.compose import Composed, ComposedEdition
from newsletter.mail.webcopy import web_copy
from newsletter.sending.loop import SendLoop
from newsletter.sending.plan import Plan
from newsletter.sending.report import Progress, SendReport
from newsletter.store import now, snapshots
from newsletter.store.journal import SMTP, Journal

__all__ = ["dry_run", "install_signals", "keep_snapshot", "loop_options", "send_issue", "test_send"]


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


def keep_snapshot(composed: Composed, journal: Journal) -> str | None:
    """Keep the web copy of what this send sends, for the archive of record, unless an earlier
    run of the issue kept one that reached somebody. Returns a warning when this run's content
    differs from it (edited mid-send: recipients get two versions; the archive keeps the first).

    A rehearsal into the outbox reached nobody real: the first send through a relay replaces
    its copy, and a rehearsal never replaces the copy of a send that reached somebody."""
    copy = web_copy(composed)
    reached = journal.reached(copy.issue)
    replace = SMTP not in reached if journal.route == SMTP else not reached
    stored, written = snapshots.keep(journal.db, copy, now(), replace=replace)
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


@contextlib.contextmanager
def install_signals(loop: SendLoop) -> Iterator[None]:
    """SIGINT and SIGTERM stop the send cleanly (in flight finished, journal committed)."""
    running = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        running.add_signal_handler(signum, loop.interrupt, signum)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            running.remove_signal_handler(signum)
