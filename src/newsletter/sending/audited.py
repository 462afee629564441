"""What the audit log hears of a send: the `SendRecord` the journal calls when a run starts and
ends (`store.journal.Journal.audit`), and a refused send. `sending.start.prepare_send` calls
these; the entries themselves are `newsletter.audit.sends`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from newsletter.audit import identity
from newsletter.audit.sends import SendRecord, fingerprint, refused
from newsletter.errors import NewsletterError
from newsletter.project import Project
from newsletter.sending.plan import Plan
from newsletter.store.journal import Journal

__all__ = ["attach", "refusal"]


def attach(
    journal: Journal,
    home: Project,
    slug: str,
    where: str,
    *,
    planned: Plan | None = None,
    test_addresses: tuple[str, ...] = (),
    segment: Mapping[str, object] | None = None,
) -> None:
    """Give the journal the send's record: a test copy (its addresses) or a send to the list
    (its audience size, route, segment; its counts read from the plan's report at the end)."""
    details: dict[str, object] = {"route": journal.route, "destination": where, **(segment or {})}
    counts = None
    if planned is not None:
        report = planned.report
        details["audience"] = report.total

        def counts() -> dict[str, int]:
            return {
                "sent": report.sent,
                "failed": report.failed,
                "unknown": len(report.unknown),
                "skipped": sum(report.skipped.values()),
            }

    journal.audit = SendRecord(
        identity.of(home.env),
        slug,
        fingerprint(home.env),
        details,
        test_addresses=test_addresses,
        counts=counts,
    )


def refusal(issue: str, home: Project, database: Path | str | None, error: NewsletterError) -> None:
    """Log a refused send (not a dry run) in the project's database, if it has one."""
    slug = Path(issue).stem if issue.endswith((".yaml", ".yml")) else issue
    location = database if database is not None else home.database_path
    refused(location, slug, str(error).splitlines()[0], identity.of(home.env))
