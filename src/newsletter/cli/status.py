"""`newsletter status`: what the journal records about an issue's send."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.cli.common import issue_argument, project
from newsletter.cli.console import out_console
from newsletter.cli.send import journal_option
from newsletter.cli.vocabulary import renamed
from newsletter.errors import DeliveryError
from newsletter.fileio import write_atomic
from newsletter.sending.status import RouteStatus, read_status
from newsletter.store.connection import shown as database_shown
from newsletter.store.journal import STATES


@click.command()
@issue_argument
@journal_option
@renamed(
    "--out",
    "export_path",
    old=("--export",),
    metavar="CSV",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the failed recipients and the servers' replies to this CSV file.",
)
def status(issue: str, journal_path: Path | str | None, export_path: Path | None) -> None:
    """Show what the journal records for ISSUE, through a relay and apart into the outbox folder
    (a rehearsal): how many recipients are in each state, the failures with the server's reply,
    those left unknown by an interrupted send, for an issue with ward editions, how many were
    sent each edition, and when the snapshot of what was sent (what the web archive publishes)
    was taken.

    \b
    Example:
        newsletter status spring-2018 --out failures.csv
    """
    path = journal_path or project(issue).settings().journal_path  # the issue file's project, as send finds it
    status = read_status(issue, path)
    console = out_console()
    console.print(f"{status.slug} in {database_shown(path)}", highlight=False)
    for route in status.routes:
        print_route(route)
    if status.snapshot is not None:
        console.print(
            f"snapshot: taken {status.snapshot[0]} as the first send started (sha256 {status.snapshot[1][:12]}); "
            "`newsletter archive` publishes it"
        )
    elif any(route.counts.get("sent") for route in status.routes):
        console.print(
            "snapshot: none (sent by an earlier release); `newsletter archive` rebuilds the issue from today's files"
        )
    if export_path is not None:
        try:
            write_atomic(export_path, status.failures_csv())
        except OSError as exc:
            raise DeliveryError(f"{export_path}: cannot write: {exc.strerror}") from exc
        console.print(f"{len(status.failures):,} failures written to {export_path}")


def print_route(route: RouteStatus) -> None:
    """One route's record: counts per state, then its runs, failures and unknown recipients."""
    console = out_console()
    if route.empty:
        console.print(f"{route.name}: nothing recorded", highlight=False)
        return
    table = Table(title=f"{route.name}:", box=None, show_header=False, title_justify="left", pad_edge=False)
    table.add_column(justify="right")
    table.add_column()
    for state in STATES:
        table.add_row(f"{route.counts.get(state, 0):,}", state)
        if state == "skipped":
            for reason, count in sorted(route.reasons.items()):
                table.add_row(f"{count:,}", f"  {reason or 'no reason'}")
    console.print(table)
    if set(route.editions) - {""}:  # an issue with ward editions: who got which
        shown = ", ".join(f"{count:,} {key or 'for everyone'}" for key, count in sorted(route.editions.items()))
        console.print(f"sent by edition: {shown}")
    if (run := route.last_real_run) is not None:
        kind, destination, started, _finished, outcome = run
        console.print(f"last run: {kind} to {destination} at {started}: {outcome or 'did not finish'}")
    if (run := route.last_test_run) is not None:
        _kind, destination, started, _finished, outcome = run
        console.print(f"last test copy: to {destination} at {started}: {outcome or 'did not finish'}")
    for failure in route.failures:
        console.print(f"  failed {failure.email} after {failure.attempts} attempts: {failure.last_reply}")
    for email in route.unknown:
        console.print(f"  unknown {email} (in flight at a stop, or its reply lost; see send --resend-unknown)")


def register(group: click.Group) -> None:
    group.add_command(status)
