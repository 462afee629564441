"""`newsletter subscribers ...`: the list of record (import, list, show, export, add, edit, remove)
and the CSV check; the privacy requests are in `privacy.py`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.audience.csvfile import Audience, load_audience
from newsletter.audience.importing import import_subscribers, read_import
from newsletter.audience.people import Skipped
from newsletter.audience.targeting import known_ward
from newsletter.audit import actions
from newsletter.cli.common import project, staff
from newsletter.cli.console import out_console
from newsletter.cli.listing import format_option, tab_line, write_rows
from newsletter.errors import InputError
from newsletter.gates.address import check_address, clean_name
from newsletter.store import Store, now, open_store
from newsletter.store.consent import Evidence, events
from newsletter.store.edits import Edit, edit_in
from newsletter.store.subscribers import (
    LIST_COLUMNS,
    STATUSES,
    SUBSCRIBED,
    add_by_staff,
    counts,
    export_csv,
    get,
    iterate,
)
from newsletter.store.suppressions import is_suppressed
from newsletter.web.config import listed_wards

SKIPPED_SHOWN = 50  # a 100,000-row list of duplicates is a count, not a 99,999-row table


def print_audience(audience: Audience, *, details: bool = True) -> None:
    """The audience report: how many rows, how many eligible, every skipped row and why."""
    console = out_console()
    counts = audience.counts()
    console.print(
        f"{audience.path}: {audience.rows:,} rows, {len(audience.subscribers):,} to send to"
        + "".join(f", {n:,} {reason}" for reason, n in sorted(counts.items()))
    )
    if audience.rows == 0:
        console.print(f"warning: {audience.path} has a header but no subscriber rows", style="yellow")
    if details and audience.skipped:
        print_skipped(audience.skipped)


def print_skipped(rows: list[Skipped]) -> None:
    """Every skipped row with its line and reason (the first SKIPPED_SHOWN of them)."""
    console = out_console()
    table = Table("line", "address", "skipped because", box=None, pad_edge=False)
    listed = sorted(rows, key=lambda s: s.line)
    for skipped in listed[:SKIPPED_SHOWN]:
        table.add_row(str(skipped.line), skipped.email or "(empty)", f"{skipped.reason}: {skipped.detail}")
    console.print(table)
    if len(listed) > SKIPPED_SHOWN:
        console.print(f"... and {len(listed) - SKIPPED_SHOWN:,} more skipped rows (the counts above cover all)")


def open_list() -> Store:
    """The project's database (the list of record)."""
    return open_store(project().database_path)


def checked_ward(given: str) -> str:
    """A ward given by hand, as NEWSLETTER_WARDS spells it when that setting lists the wards;
    any other is refused (exit 2) before the list is opened."""
    return known_ward("--ward", clean_name(given), listed_wards(project().env), "NEWSLETTER_WARDS")


def checked_address(raw: str, what: str = "EMAIL") -> str:
    try:
        return check_address(raw.strip()).lower()
    except ValueError as exc:
        raise InputError(f"{what} ({raw!r}): {exc}") from exc


@click.group()
def subscribers() -> None:
    """The list of record in the project database, and subscriber CSV files.

    \b
    Example:
        newsletter subscribers import subscribers.csv --source "paper forms, 2018 surgeries"
    """


@subscribers.command("check")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
def check_subscribers(csv_path: Path) -> None:
    """Report what a subscriber CSV holds: rows to send to, and every row skipped and why
    (invalid address, duplicate, no consent). Changes nothing.

    \b
    Example:
        newsletter subscribers check subscribers.csv
    """
    print_audience(load_audience(csv_path))


@subscribers.command("import")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
@click.option("--source", default="", help="Where the list and its consent came from, kept as evidence.")
@click.option(
    "--date-format",
    "dates",
    default=None,
    metavar="TEXT",
    help="How consented_at is written: dmy (03/04/2018 is 3 April; the default), mdy, iso, or a pattern "
    "such as %d.%m.%Y. ISO dates (2018-04-03) are read in every case.",
)
@click.option("--skip-invalid", is_flag=True, help="Import the rows that can be read; count the rest (exit 1).")
def import_command(csv_path: Path, source: str, dates: str | None, skip_invalid: bool) -> None:
    """Add or update the consenting rows of a subscriber CSV in the list. Importing the same
    file again changes nothing. A row without consent is never added; an address that
    unsubscribed or is suppressed is never subscribed again. Every change is a consent event
    naming the file and line. A row whose address or date cannot be read stops the import
    (nothing is written) with every such row listed, unless --skip-invalid is given.

    \b
    Example:
        newsletter subscribers import subscribers.csv --source "paper forms, 2018 surgeries"
    """
    checked = read_import(csv_path, dates, skip_invalid=skip_invalid)  # refused before the database is opened
    who = staff()
    with open_list() as store:
        report = import_subscribers(store.db, csv_path, source.strip(), checked, staff=who)
    counts = "".join(f", {n:,} {reason}" for reason, n in sorted(report.counts().items()))
    console = out_console()
    console.print(
        f"{csv_path}: {report.rows:,} rows: {report.added:,} added, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged, {len(report.skipped):,} skipped{counts}",
        markup=False,
    )
    if report.split_name:
        console.print("name: split into first and last name (the last word is the last name)", markup=False)
    if report.ignored:
        console.print(f"columns not imported: {', '.join(report.ignored)}", markup=False)
    if report.skipped:
        print_skipped(report.skipped)
    if not report.changed:
        console.print(f"Nothing changed in {store.path}.", markup=False)
    if report.invalid:
        console.print(f"{report.invalid:,} unreadable rows skipped (--skip-invalid): see above", markup=False)
        raise click.exceptions.Exit(1)


@subscribers.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status (default: all).")
@format_option
def list_command(status: str | None, fmt: str) -> None:
    """Show the list: address, status, name, ward and tags, one per line, every address whole.
    `--format csv` or `json` writes every field for a spreadsheet or a program instead.

    \b
    Example:
        newsletter subscribers list --status subscribed --format csv > list.csv
    """
    with open_list() as store:
        if fmt != "text":
            write_rows(fmt, LIST_COLUMNS, (r.listed() for r in iterate(store.db, status)))
            return
        for r in iterate(store.db, status):
            click.echo(tab_line((r.email, r.status, r.name, r.ward, list(r.tags))))
        totals = counts(store.db)
    out_console().print(", ".join(f"{n:,} {s}" for s, n in totals.items()) + f" in {store.path}", markup=False)


@subscribers.command("show")
@click.argument("email", metavar="EMAIL")
def show_command(email: str) -> None:
    """Show one subscriber and every consent event recorded about them.

    \b
    Example:
        newsletter subscribers show margaret.hughes@example.org
    """
    address = checked_address(email)
    with open_list() as store:
        record = get(store.db, address)
        history = events(store.db, address)
        suppressed = is_suppressed(store.db, address)
    if record is None and not history:
        raise InputError(f"{address}: not on the list in {store.path}")
    console = out_console()
    if record is not None:
        console.print(
            f"{record.email}: {record.status}; name {record.name or '(none)'}; ward {record.ward or '(none)'}"
            f"; tags {', '.join(record.tags) or '(none)'}; consented {record.consented_at or 'no'}; "
            f"since {record.created_at}",
            markup=False,
        )
    if suppressed:
        console.print(f"suppressed: {suppressed}", markup=False)
    for e in history:
        evidence = "; ".join(
            x for x in (e.detail, e.wording and f"wording {e.wording!r}", e.ip, e.user_agent, e.actor) if x
        )
        console.print(f"  {e.at}  {e.kind} ({e.source}){': ' + evidence if evidence else ''}", markup=False)


@subscribers.command("export")
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--status",
    type=click.Choice((*STATUSES, "all")),
    default=SUBSCRIBED,
    show_default=True,
    help="Which subscribers to write.",
)
def export_command(csv_path: Path, status: str) -> None:
    """Write the list to a CSV that `subscribers import` reads back (written whole or not at all).

    \b
    Example:
        newsletter subscribers export list-backup.csv
    """
    who = staff()
    with open_list() as store:
        count = export_csv(store.db, csv_path, None if status == "all" else status)
        actions.export(store.db, "subscribers", csv_path, count, who, status=status)
    out_console().print(f"{count:,} subscribers written to {csv_path}", markup=False)


@subscribers.command("add")
@click.argument("email", metavar="EMAIL")
@click.option("--consent", "how", required=True, help="How and when they consented (kept as evidence).")
@click.option("--first-name", default="", help="First name.")
@click.option("--last-name", default="", help="Last name.")
@click.option("--ward", default="", help="Ward.")
@click.option("--tag", "tags", multiple=True, help="A topic tag (repeatable).")
def add_command(email: str, how: str, first_name: str, last_name: str, ward: str, tags: tuple[str, ...]) -> None:
    """Subscribe one person who gave the office their consent (by letter, phone, at a surgery).
    An address already on the list is refused (`subscribers edit` changes it field by field);
    so is one that unsubscribed or is suppressed.

    \b
    Example:
        newsletter subscribers add anne@example.org --first-name Anne --consent "signed form, surgery 3 May"
    """
    address = checked_address(email)
    if not how.strip():
        raise InputError("--consent: say how the person consented")
    ward = checked_ward(ward)
    with open_list() as store:
        record = add_by_staff(
            store.db,
            address,
            clean_name(first_name),
            clean_name(last_name),
            ward,
            [clean_name(t) for t in tags],
            now("seconds")[:10],
            Evidence("staff", clean_name(how)),
        )
    out_console().print(f"{record.email}: subscribed", markup=False)


def _cleaned(value: str | None) -> str | None:
    return None if value is None else clean_name(value)


@subscribers.command("edit")
@click.argument("email", metavar="EMAIL")
@click.option("--first-name", default=None, help="New first name ('' clears it).")
@click.option("--last-name", default=None, help="New last name ('' clears it).")
@click.option("--ward", default=None, help="New ward ('' clears it).")
@click.option("--tag", "tags", multiple=True, help="Add a topic tag (repeatable).")
@click.option("--untag", "untags", multiple=True, help="Remove a topic tag (repeatable).")
def edit_command(
    email: str,
    first_name: str | None,
    last_name: str | None,
    ward: str | None,
    tags: tuple[str, ...],
    untags: tuple[str, ...],
) -> None:
    """Change one person's details: only what you give changes; everything else stays. The
    change is a consent event with the old and new values and who made it (NEWSLETTER_STAFF if
    set, else your computer account). Status and consent are not changed here.

    \b
    Example:
        newsletter subscribers edit anne@example.org --ward "Heatons North" --tag events
    """
    address = checked_address(email)
    change = Edit(
        _cleaned(first_name),
        _cleaned(last_name),
        None if ward is None else checked_ward(ward),
        tuple(map(clean_name, tags)),
        tuple(map(clean_name, untags)),
    )
    if change.asks_nothing():
        raise InputError(f"{address}: nothing to change; give --first-name, --last-name, --ward, --tag or --untag")
    home = project()
    changed = edit_in(home.database_path, address, change, home.staff_member(), actions.edit_logger(staff(home)))
    console = out_console()
    for name, (old, new) in changed.items():
        console.print(f"{address}: {name} {old or '(none)'} -> {new or '(none)'}", markup=False)
    if not changed:
        console.print(f"{address}: nothing changed (already so)", markup=False)


@subscribers.command("remove")
@click.argument("email", metavar="EMAIL")
@click.option("--note", default="", help="Why, for the record (e.g. 'asked by letter, 3 May').")
def remove_command(email: str, note: str) -> None:
    """Take a person off the list: status unsubscribed, and the address suppressed so no send
    or import mails it again.

    \b
    Example:
        newsletter subscribers remove anne@example.org --note "asked by letter"
    """
    address = checked_address(email)
    who = staff()
    with open_list() as store:
        if get(store.db, address) is None:
            raise InputError(
                f"{address}: not on the list in {store.path}",
                hint="`newsletter unsubscribe` suppresses an address that is not on the list",
            )
        evidence = Evidence("staff", clean_name(note) or "newsletter subscribers remove")
        actions.unsubscribe(store.db, [address], evidence, who)
    out_console().print(f"{address}: removed (unsubscribed and suppressed)", markup=False)


def register(group: click.Group) -> None:
    group.add_command(subscribers)
