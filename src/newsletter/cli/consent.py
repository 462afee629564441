"""Consent commands: `unsubscribe`, `suppressions ...` and `bounces import`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
from rich.table import Table

from newsletter.audience.bounces import import_mailbox
from newsletter.audit import actions
from newsletter.cli.common import settings, staff
from newsletter.cli.console import out_console
from newsletter.cli.listing import format_option, tab_line, write_rows
from newsletter.errors import InputError
from newsletter.gates.address import check_address
from newsletter.store import suppressions
from newsletter.store.connection import shown as database_shown
from newsletter.store.subscribers import Evidence


@click.command()
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option("--note", default="", help="Why, for the record (e.g. 'phoned the office 3 May').")
def unsubscribe(emails: tuple[str, ...], note: str) -> None:
    """Unsubscribe addresses by hand, for a constituent who phoned or wrote to the office:
    suppressed, marked unsubscribed on the list, and a consent event records the note.
    Every later send skips them.

    \b
    Example:
        newsletter unsubscribe anne@example.org --note "phoned the office"
    """
    checked = []
    for position, raw in enumerate(emails, 1):
        try:
            checked.append(check_address(raw.strip()))
        except ValueError as exc:
            raise InputError(f"EMAIL {position} ({raw!r}): {exc}") from exc
    who = staff()
    db = suppressions.connect(settings().journal_path)
    try:
        evidence = Evidence(source="staff", detail=note, actor="newsletter unsubscribe")
        added = actions.unsubscribe(db, checked, evidence, who)
    finally:
        db.close()
    for email, new in zip(checked, added, strict=True):
        out_console().print(f"{email}: " + ("unsubscribed" if new else "already on the suppression list"))


@click.group("suppressions")
def suppressions_group() -> None:
    """The suppression list: addresses no send will ever mail (unsubscribed, bounced, complained).

    \b
    Example:
        newsletter suppressions list
    """


@suppressions_group.command("list")
@format_option
def list_suppressions(fmt: str) -> None:
    """Show every suppressed address with its reason, source and time; every address whole
    when the output is a file or a pipe. `--format csv` or `json` for a spreadsheet or a program.

    \b
    Example:
        newsletter suppressions list --format json > suppressions.json
    """
    path = settings().journal_path
    items = sorted(suppressions.suppressed_addresses(path).values(), key=lambda s: (s.created_at, s.email))
    if fmt != "text":
        write_rows(fmt, suppressions.CSV_COLUMNS, (dataclasses.asdict(item) for item in items))
        return
    console = out_console()
    if not console.is_terminal:
        for item in items:
            click.echo(tab_line((item.email, item.reason, item.source, item.created_at, item.detail)))
    elif items:
        table = Table("email", "reason", "source", "since", "detail", box=None, pad_edge=False)
        for item in items:
            table.add_row(item.email, item.reason, item.source, item.created_at, item.detail)
        console.print(table)
    console.print(f"{len(items):,} suppressed in {database_shown(path)}")


@suppressions_group.command("export")
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
def export_suppressions(csv_path: Path) -> None:
    """Write the suppression list to a CSV (email, reason, source, detail, created_at).

    \b
    Example:
        newsletter suppressions export suppressions.csv
    """
    who = staff()
    db = suppressions.connect(settings().journal_path)
    try:
        count = suppressions.export_csv(db, csv_path)
        actions.export(db, "suppressions", csv_path, count, who)
    finally:
        db.close()
    out_console().print(f"{count:,} suppressed addresses written to {csv_path}")


@suppressions_group.command("import")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
def import_suppressions(csv_path: Path) -> None:
    """Add the addresses of a CSV (at least an `email` column; `reason` one of unsubscribed,
    hard-bounce, soft-bounce, complaint, manual). A bad row stops the import before anything
    is written.

    \b
    Example:
        newsletter suppressions import old-system-unsubscribes.csv
    """
    items = suppressions.read_csv(csv_path)  # validate before creating or touching the journal
    who = staff()
    db = suppressions.connect(settings().journal_path)
    try:
        added, existing = actions.import_suppressions(db, csv_path, items, who)
    finally:
        db.close()
    out_console().print(f"{csv_path}: {len(items):,} rows, {added:,} added, {existing:,} already suppressed")


@suppressions_group.command("remove")
@click.argument("email", metavar="EMAIL")
def remove_suppression(email: str) -> None:
    """Lift a suppression: the only way to mail an address again (for someone who asked to
    be added back). The subscriber CSV cannot do it.

    \b
    Example:
        newsletter suppressions remove anne@example.org
    """
    try:
        address = check_address(email.strip())
    except ValueError as exc:
        raise InputError(f"EMAIL ({email!r}): {exc}") from exc
    path = settings().journal_path
    if address.lower() not in suppressions.suppressed_addresses(path):
        raise InputError(f"{address}: not on the suppression list in {database_shown(path)}")
    who = staff()
    db = suppressions.connect(path)
    try:
        removed = actions.lift_suppression(db, address, who)
    finally:
        db.close()
    if removed:
        out_console().print(f"{removed.email}: removed ({removed.reason}, {removed.source}, {removed.created_at})")


@click.group()
def bounces() -> None:
    """Take in bounces, complaints and unsubscribe mails from the office's mailbox.

    \b
    Example:
        newsletter bounces import ~/Mail/bounces.mbox
    """


@bounces.command("import")
@click.argument("mailbox_path", metavar="MAILBOX", type=click.Path(path_type=Path))
def import_bounces(mailbox_path: Path) -> None:
    """Read an mbox file or a Maildir folder: hard bounces, complaints and unsubscribe
    requests are suppressed; soft bounces are counted and suppressed after
    NEWSLETTER_SOFT_BOUNCE_LIMIT issues (default 3). Importing again changes nothing.

    \b
    Example:
        newsletter bounces import bounces.mbox
    """
    report = import_mailbox(mailbox_path, settings(), staff())
    console = out_console()
    for line in report.lines:
        console.print(line)
    summary = ", ".join(f"{n:,} {what}" for what, n in sorted(report.counts.items())) or "nothing to do"
    console.print(f"{mailbox_path}: {report.messages:,} messages: {summary}")


def register(group: click.Group) -> None:
    for command in (unsubscribe, suppressions_group, bounces):
        group.add_command(command)
