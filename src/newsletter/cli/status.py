"""`newsletter status`: what the journal records about an issue's send."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.cli.common import issue_argument, project
from newsletter.cli.console import out_console
from newsletter.cli.send import journal_option
from newsletter.errors import DeliveryError, InputError
from newsletter.fileio import write_atomic
from newsletter.gates import cells
from newsletter.store import snapshots
from newsletter.store.journal import STATES, Journal


def issue_slug(issue: str) -> str:
    """An issue named by slug or by its YAML file: the journal keys on the slug."""
    path = Path(issue)
    return path.stem if path.suffix in (".yaml", ".yml") else issue


@click.command()
@issue_argument
@journal_option
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the failed recipients and the servers' replies to this CSV file.",
)
def status(issue: str, journal_path: Path | None, export_path: Path | None) -> None:
    """Show what the journal records for ISSUE: how many recipients are in each state, the
    failures with the server's reply, those left unknown by an interrupted send, for an
    issue with ward editions, how many were sent each edition, and when the snapshot of what
    was sent (what the web archive publishes) was taken.

    \b
    Example:
        newsletter status spring-2018 --export failures.csv
    """
    slug = issue_slug(issue)
    path = journal_path or project(issue).settings().journal_path  # the issue file's project, as send finds it
    console = out_console()
    nothing = InputError(
        f"{slug}: no send of this issue is recorded in {path}",
        hint="status takes the issue's slug or YAML file, e.g. spring-2018",
    )
    if not path.exists():
        raise nothing
    with Journal(path) as journal:
        counts = journal.counts(slug)
        reasons = journal.skipped_reasons(slug)
        editions = journal.sent_editions(slug)
        failures = list(journal.failures(slug))
        unknown = journal.unknown(slug)
        runs = journal.runs(slug)
        snapshot = snapshots.taken(journal.db, slug)
    if not counts and not runs:
        raise nothing
    table = Table(title=f"{slug} in {path}", box=None, show_header=False, title_justify="left", pad_edge=False)
    table.add_column(justify="right")
    table.add_column()
    for state in STATES:
        table.add_row(f"{counts.get(state, 0):,}", state)
        if state == "skipped":
            for reason, count in sorted(reasons.items()):
                table.add_row(f"{count:,}", f"  {reason or 'no reason'}")
    console.print(table)
    if set(editions) - {""}:  # an issue with ward editions: who got which
        shown = ", ".join(f"{count:,} {key or 'for everyone'}" for key, count in sorted(editions.items()))
        console.print(f"sent by edition: {shown}")
    real = [run for run in runs if run[0] != "test"]
    if real:  # a test copy (`send --to`) is not the issue's send
        kind, destination, started, _finished, outcome = real[-1]
        console.print(f"last run: {kind} to {destination} at {started}: {outcome or 'did not finish'}")
    if runs and runs[-1][0] == "test":
        _kind, destination, started, _finished, outcome = runs[-1]
        console.print(f"last test copy: to {destination} at {started}: {outcome or 'did not finish'}")
    if snapshot is not None:
        console.print(
            f"snapshot: taken {snapshot[0]} as the first send started (sha256 {snapshot[1][:12]}); "
            "`newsletter archive` publishes it"
        )
    elif counts.get("sent"):
        console.print(
            "snapshot: none (sent by an earlier release); `newsletter archive` rebuilds the issue from today's files"
        )
    for failure in failures:
        console.print(f"  failed {failure.email} after {failure.attempts} attempts: {failure.last_reply}")
    for email in unknown:
        console.print(f"  unknown {email} (was in flight when a send stopped; see send --resend-unknown)")
    if export_path is not None:
        data = cells.csv_bytes(
            ["email", "attempts", "last_reply", "updated_at"],
            [(f.email, f.attempts, f.last_reply, f.updated_at) for f in failures],
        )
        try:
            write_atomic(export_path, data)
        except OSError as exc:
            raise DeliveryError(f"{export_path}: cannot write: {exc.strerror}") from exc
        console.print(f"{len(failures):,} failures written to {export_path}")


def register(group: click.Group) -> None:
    group.add_command(status)
