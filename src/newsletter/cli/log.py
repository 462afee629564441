"""`newsletter log`: who did what, when and from where (the audit log), its check and its export."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.audit import reading
from newsletter.audit.log import Entry, canonical
from newsletter.cli.common import project
from newsletter.cli.console import out_console, printable
from newsletter.cli.send import journal_option
from newsletter.cli.vocabulary import renamed
from newsletter.errors import NewsletterError
from newsletter.store.connection import shown as database_shown


class BrokenLog(NewsletterError):
    """`log --verify` found an edited or deleted entry (exit 1: the log, not the input, is wrong)."""


def line(entry: Entry) -> str:
    """One entry on one line: when, who (and how we know), where, what, which issue, the details."""
    when = entry.at.isoformat(timespec="seconds")
    details = canonical(entry.details) if entry.details else ""
    who = f"{entry.staff} ({entry.source}) on {entry.host}"
    return printable(f"{entry.id}  {when}  {who}  {entry.action}  {entry.issue or '-'}  {details}")


@click.command("log")
@click.option(
    "--since", "since_raw", metavar="DATE", default=None, help="Only entries from this date (YYYY-MM-DD, UTC)."
)
@click.option("--issue", metavar="SLUG", default=None, help="Only entries about this issue.")
@click.option(
    "--verify", is_flag=True, help="Check every entry against the hash chain; exit 1 naming the first broken one."
)
@renamed(
    "--out",
    "export_path",
    old=("--export",),
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Export the entries to FILE instead: .csv or .json (never over an existing file).",
)
@journal_option
def log_command(
    since_raw: str | None, issue: str | None, verify: bool, export_path: Path | None, journal_path: Path | str | None
) -> None:
    """Show the audit log: every send, test send, import, export, erasure, edit, suppression
    change and change of the settings that shape what is sent, with who (NEWSLETTER_STAFF, or
    the OS user, said so), when and from which host. `--verify` checks that no entry was
    edited or deleted; `--out records.csv` (or .json) exports them for a records request.

    \b
    Example:
        newsletter log --since 2026-01-01 --issue spring-2018
    """
    since = reading.since_date(since_raw) if since_raw is not None else None  # refused before anything is opened
    location = journal_path or project().database_path
    console = out_console()
    where = database_shown(location)
    if verify:
        checked = reading.check(location)
        if checked is None:
            console.print(f"no audit log yet: {where} does not exist", highlight=False)
            return
        count, broken = checked
        if broken is not None:
            raise BrokenLog(f"audit log in {where}: {broken} (checked {count:,} entries)")
        console.print(f"audit log in {where}: {count:,} entries, the chain is intact", highlight=False)
        return
    if export_path is not None:
        written = reading.save(location, export_path, since=since, issue=issue)
        if written is None:
            console.print(f"no audit log yet: {where} does not exist; nothing written", highlight=False)
            return
        console.print(f"{written:,} entries written to {export_path}", highlight=False)
        return
    found = reading.read(location, since=since, issue=issue)
    if found is None:
        console.print(f"no audit log yet: {where} does not exist", highlight=False)
        return
    for entry in found:
        click.echo(line(entry))
    console.print(f"{len(found):,} entries in {where}", highlight=False)


def register(group: click.Group) -> None:
    group.add_command(log_command)
