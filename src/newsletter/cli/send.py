"""`newsletter send`: deliver an issue to the outbox (or dry-run it)."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.audience import load_audience
from newsletter.cli.common import composed_issue, issue_argument, subscribers_path
from newsletter.cli.console import err_console, out_console
from newsletter.cli.subscribers import print_audience
from newsletter.delivery.outbox import Outbox
from newsletter.send import SendReport, send_issue
from newsletter.targeting import target


def print_report(report: SendReport) -> None:
    console = out_console()
    verb = "would be sent" if report.dry_run else "sent"
    console.print(
        f"{report.issue}: {report.sent:,} {verb} to {report.destination}"
        + "".join(f", {n:,} skipped ({reason})" for reason, n in sorted(report.skipped.items()))
        + f" in {report.elapsed:.2f} s"
    )
    if report.dry_run:
        console.print("Dry run: nothing was written or sent.")


@click.command()
@issue_argument
@click.option("--subscribers", "csv_path", type=click.Path(path_type=Path), default=None,
              help="Subscriber CSV (default: $NEWSLETTER_SUBSCRIBERS, subscribers.csv, or the example list).")
@click.option("--dry-run", is_flag=True, help="Build and check every message; write and send nothing.")
@click.option("--outbox", "outbox_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Outbox folder (default: outbox/<issue-slug>/).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Send to at most N subscribers.")
@click.option("--ward", "wards", multiple=True, help="Only subscribers in this ward (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Only subscribers with this tag (repeatable).")
@click.option("--yes", is_flag=True, help="Answer yes to any confirmation (for scripts).")
def send(
    issue: str,
    csv_path: Path | None,
    dry_run: bool,
    outbox_dir: Path | None,
    limit: int | None,
    wards: tuple[str, ...],
    tags: tuple[str, ...],
    yes: bool,
) -> None:
    """Send ISSUE to every subscriber who consented: to the outbox folder when no SMTP relay
    is configured, or nowhere with --dry-run.

    \b
    Example:
        newsletter send spring-2018 --subscribers subscribers.example.csv --dry-run
    """
    composed = composed_issue(issue)
    path, note = subscribers_path(csv_path, composed.issue.project.root)
    if note:
        err_console().print(f"note: {note}")
    audience = target(load_audience(path), composed.issue, wards=wards, tags=tags,
                      journal_path=composed.settings.journal_path)
    print_audience(audience, details=dry_run)
    backend = None if dry_run else Outbox(outbox_dir or Path("outbox") / composed.issue.slug)
    print_report(send_issue(composed, audience, backend, limit=limit))


def register(group: click.Group) -> None:
    group.add_command(send)
