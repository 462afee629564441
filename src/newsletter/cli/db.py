"""`newsletter db`: upgrade, status, backup and copy of the project's database."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.common import project
from newsletter.cli.console import out_console
from newsletter.settings import database_location
from newsletter.store import admin
from newsletter.store.connection import Location, shown


@click.group("db")
def db() -> None:
    """The project's database: its schema version, upgrades, backups, and moving it to PostgreSQL.

    The database is NEWSLETTER_DATABASE: a SQLite file (the default,
    .newsletter/newsletter.sqlite3) or a postgresql:// URL.

    \b
    Example:
        newsletter db status
    """


def _location(given: str | None, option: str) -> Location:
    if given is None:
        return project().database_path
    return database_location(given, option)


@db.command("status")
def status_command() -> None:
    """Which database, its backend and schema version, and how many rows each table holds.

    \b
    Example:
        newsletter db status
    """
    location = project().database_path
    found = admin.status(location)
    console = out_console()
    if found is None:
        console.print(f"No database yet at {shown(location)}: the first send or import creates it.", markup=False)
        return
    state = "current" if found.current else f"needs `newsletter db upgrade` to {found.head}"
    console.print(
        f"{found.where} ({found.backend}), schema {found.revision or 'before Alembic'}: {state}", markup=False
    )
    for name, count in found.counts.items():
        console.print(f"  {name:<26} {count:>12,}", markup=False)


@db.command("upgrade")
def upgrade_command() -> None:
    """Bring the database's schema to this release's newest revision, in one transaction.

    Every other command refuses a database whose schema is older than this release; run this
    once after installing a new release (back up first).

    \b
    Example:
        newsletter db backup backups/before-upgrade.sqlite3 && newsletter db upgrade
    """
    location = project().database_path
    before, after = admin.upgrade(location)
    where = shown(location)
    if before == after:
        out_console().print(f"{where}: already at schema {after}; nothing to do", markup=False)
    else:
        out_console().print(f"{where}: upgraded from schema {before or 'before Alembic'} to {after}", markup=False)


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE")
def backup_command(file: Path) -> None:
    """Write a consistent copy of the database to FILE, a SQLite file, while others keep working.

    A PostgreSQL database is copied table by table into the file; restore it with
    `newsletter db copy --from FILE --to postgresql://...`.

    \b
    Example:
        newsletter db backup backups/2026-12-05.sqlite3
    """
    done = admin.backup(project().database_path, file)
    rows = sum(done.counts.values())
    out_console().print(
        f"{file}: {rows:,} rows in {len(done.counts)} tables, checksum {done.checksum[:16]}", markup=False
    )


@db.command("copy")
@click.option(
    "--to", "target", required=True, metavar="DATABASE", help="An empty database: a postgresql:// URL or a new file."
)
@click.option(
    "--from",
    "source",
    default=None,
    metavar="DATABASE",
    help="Copy this database instead of the project's (a backup file, to restore it).",
)
def copy_command(target: str, source: str | None) -> None:
    """Copy every table (the list, consent history, journal, keys) into an empty database,
    verified by row counts and a checksum of every row; the source is left as it was.

    To restore a backup: --from backups/2026-12-05.sqlite3 --to postgresql://localhost/newsletter

    \b
    Example:
        newsletter db copy --to postgresql://newsletter@db.example.org/newsletter
    """
    from_location = _location(source, "--from")
    to_location = _location(target, "--to")
    done = admin.copy(from_location, to_location)
    console = out_console()
    for name, count in done.counts.items():
        console.print(f"  {name:<26} {count:>12,}", markup=False)
    console.print(
        f"Copied {shown(from_location)} to {shown(to_location)}: {sum(done.counts.values()):,} rows, "
        f"counts and checksum {done.checksum[:16]} verified. Point NEWSLETTER_DATABASE at it to use it.",
        markup=False,
    )


def register(cli: click.Group) -> None:
    cli.add_command(db)
