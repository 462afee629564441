"""`newsletter subscribers export-person` and `erase`: privacy requests under UK GDPR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from newsletter.audit import actions
from newsletter.cli.common import staff
from newsletter.cli.console import out_console
from newsletter.cli.subscribers import checked_address, open_list, subscribers
from newsletter.cli.vocabulary import renamed
from newsletter.errors import DeliveryError, InputError
from newsletter.fileio import write_atomic
from newsletter.store.privacy import export_person


@subscribers.command("export-person")
@click.argument("email", metavar="EMAIL")
@renamed(
    "--out",
    "out_path",
    old=("--export",),
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Write the JSON to this file instead of the terminal.",
)
def export_person_command(email: str, out_path: Path | None) -> None:
    """Everything the database holds about one person, as JSON: their record, consent events,
    deliveries (dates and Message-IDs), suppressions and bounces (a subject access request).

    \b
    Example:
        newsletter subscribers export-person margaret.hughes@example.org --out margaret.json
    """
    address = checked_address(email)
    who = staff()
    with open_list() as store:
        held = export_person(store.db, address)
        text = json.dumps(held, indent=2, ensure_ascii=False) + "\n"
        if out_path is not None:
            try:
                write_atomic(out_path, text.encode("utf-8"))
            except OSError as exc:
                raise DeliveryError(f"{out_path}: cannot write: {exc.strerror}") from exc
        actions.export(store.db, "person", out_path, 1, who, address_hash=actions.address_hash(store.db, address))
    if out_path is None:
        click.echo(text, nl=False)
        return
    out_console().print(f"{address}: written to {out_path}", markup=False)


@subscribers.command("erase")
@click.argument("email", metavar="EMAIL")
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation (for scripts).")
def erase_command(email: str, yes: bool) -> None:
    """Delete one person's data everywhere in the database (right to erasure). Only a keyed
    hash of the address is kept on the suppression list, so no later import or send can
    add them back. Files outside the database (outbox, exports) are not touched.

    \b
    Example:
        newsletter subscribers erase margaret.hughes@example.org --yes
    """
    address = checked_address(email)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError(
                "refusing to erase without confirmation: stdin is not a terminal",
                hint="pass --yes to erase from a script",
            )
        if not click.confirm(f"Erase everything held about {address}? This cannot be undone", default=False):
            raise click.Abort()
    who = staff()
    with open_list() as store:
        done = actions.erase(store.db, address, who)
    out_console().print(
        f"{address}: erased {done.total:,} records (subscriber {done.subscriber}, consent events "
        f"{done.consent_events}, deliveries {done.deliveries}, suppressions {done.suppressions}, bounces "
        f"{done.bounces}, test sends {done.test_sends}). Kept only a keyed hash of the address on the suppression "
        "list, so a later import cannot add them back.",
        markup=False,
    )
