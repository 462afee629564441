"""`newsletter subscribers check`: the audience report without sending."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from newsletter.audience import Audience, load_audience
from newsletter.cli.console import out_console


def print_audience(audience: Audience, *, details: bool = True) -> None:
    """The audience report: how many rows, how many eligible, every skipped row and why."""
    console = out_console()
    counts = audience.counts()
    console.print(
        f"{audience.path}: {audience.rows:,} rows, {len(audience.subscribers):,} to send to"
        + "".join(f", {n:,} {reason}" for reason, n in sorted(counts.items()))
    )
    if details and audience.skipped:
        table = Table("line", "address", "skipped because", box=None, pad_edge=False)
        for skipped in sorted(audience.skipped, key=lambda s: s.line):
            table.add_row(str(skipped.line), skipped.email or "(empty)", f"{skipped.reason}: {skipped.detail}")
        console.print(table)


@click.group()
def subscribers() -> None:
    """Work with subscriber lists.

    \b
    Example:
        newsletter subscribers check subscribers.example.csv
    """


@subscribers.command("check")
@click.argument("csv_path", metavar="CSV", type=click.Path(path_type=Path))
def check_subscribers(csv_path: Path) -> None:
    """Report what a subscriber CSV holds: rows to send to, and every row skipped and why
    (invalid address, duplicate, no consent).

    \b
    Example:
        newsletter subscribers check subscribers.csv
    """
    print_audience(load_audience(csv_path))


def register(group: click.Group) -> None:
    group.add_command(subscribers)
