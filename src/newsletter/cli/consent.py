"""Consent commands: `unsubscribe`, `suppressions ...`, `serve` (the unsubscribe endpoint) and
`bounces import`."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click
from rich.table import Table

from newsletter.audience import check_address
from newsletter.bounces import import_mailbox
from newsletter.cli.common import settings
from newsletter.cli.console import err_console, out_console
from newsletter.errors import InputError
from newsletter.store import suppressions
from newsletter.store.database import transaction


@click.command()
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option("--note", default="", help="Why, for the record (e.g. 'phoned the office 3 May').")
def unsubscribe(emails: tuple[str, ...], note: str) -> None:
    """Suppress addresses by hand, for a constituent who phoned or wrote to the office.
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
    db = suppressions.connect(settings().journal_path)
    try:
        with transaction(db):
            added = [suppressions.add(db, email, "unsubscribed", "by hand (newsletter unsubscribe)", note)
                     for email in checked]
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
def list_suppressions() -> None:
    """Show every suppressed address with its reason, source and time.

    \b
    Example:
        newsletter suppressions list
    """
    path = settings().journal_path
    items = sorted(suppressions.suppressed_addresses(path).values(), key=lambda s: (s.created_at, s.email))
    table = Table("email", "reason", "source", "since", "detail", box=None, pad_edge=False)
    for item in items:
        table.add_row(item.email, item.reason, item.source, item.created_at, item.detail)
    if items:
        out_console().print(table)
    out_console().print(f"{len(items):,} suppressed in {path}")


@suppressions_group.command("export")
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
def export_suppressions(csv_path: Path) -> None:
    """Write the suppression list to a CSV (email, reason, source, detail, created_at).

    \b
    Example:
        newsletter suppressions export suppressions.csv
    """
    db = suppressions.connect(settings().journal_path)
    try:
        count = suppressions.export_csv(db, csv_path)
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
    db = suppressions.connect(settings().journal_path)
    try:
        added, existing = suppressions.import_csv(db, csv_path, items)
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
        raise InputError(f"{address}: not on the suppression list in {path}")
    db = suppressions.connect(path)
    try:
        removed = suppressions.remove(db, address)
    finally:
        db.close()
    if removed:
        out_console().print(f"{removed.email}: removed ({removed.reason}, {removed.source}, {removed.created_at})")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1: put a reverse proxy in front).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8080; 0 picks a free one).")
def serve(host: str | None, port: int | None) -> None:
    """Run the unsubscribe endpoint (the https URL in List-Unsubscribe) with waitress, until
    Ctrl-C. It answers the path of UNSUBSCRIBE_URL and /healthz.

    \b
    Example:
        newsletter serve --port 8080
    """
    from waitress import create_server

    from newsletter.web import make_app

    config = settings()
    host = host or config.env.get("NEWSLETTER_SERVE_HOST", "127.0.0.1")
    port = port if port is not None else _port(config.env.get("NEWSLETTER_SERVE_PORT", "8080"))
    app = make_app(config, Path.cwd())
    server = create_server(app, host=host, port=port, threads=4, max_request_body_size=64 * 1024,
                           ident="newsletter", channel_timeout=30)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    shown = f"[{host}]" if ":" in host else host
    out_console().print(f"Serving unsubscribe links on http://{shown}:{server.effective_port}{app.path}"
                        f" (journal {config.journal_path}); Ctrl-C stops")
    sys.stdout.flush()  # a supervisor or a test reads the URL while the server runs
    server.run()  # waitress closes its sockets on Ctrl-C or SystemExit
    err_console().print("stopped")


def _port(raw: str) -> int:
    if not raw.strip().isdigit() or not 0 <= int(raw) <= 65535:
        raise InputError(f"NEWSLETTER_SERVE_PORT: {raw!r} is not a port number")
    return int(raw)


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
    report = import_mailbox(mailbox_path, settings())
    console = out_console()
    for line in report.lines:
        console.print(line)
    summary = ", ".join(f"{n:,} {what}" for what, n in sorted(report.counts.items())) or "nothing to do"
    console.print(f"{mailbox_path}: {report.messages:,} messages: {summary}")


def register(group: click.Group) -> None:
    for command in (unsubscribe, suppressions_group, serve, bounces):
        group.add_command(command)
