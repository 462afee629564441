"""Lists in the three shapes a `list` command prints: text for a person, CSV and JSON for a
program or a spreadsheet.

`--format csv` goes through the CSV export gate (`gates/cells.py`), so no cell a constituent
or a relay wrote becomes a formula; `--format json` is one array of objects. Both are bytes on
stdout and nothing else is printed there, so the output can be redirected to a file as it is.
Text printed to a pipe or a file is one tab-separated line per row with every value whole: a
table sized for a terminal would cut addresses short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

import click

from newsletter.cli.console import printable
from newsletter.gates.cells import csv_bytes

FORMATS = ("text", "csv", "json")
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for reading; csv (safe to open in a spreadsheet) or json for other programs.",
)

Row = Mapping[str, str | list[str] | None]


def _flat(value: str | list[str] | None) -> str:
    return ";".join(value) if isinstance(value, list) else value or ""


def write_rows(fmt: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """The rows as CSV (a header, then one line each) or JSON (a list of objects) on stdout."""
    if fmt == "csv":
        data = csv_bytes(columns, ([_flat(row[c]) for c in columns] for row in rows))
    else:
        listed = [{c: row[c] for c in columns} for row in rows]
        data = json.dumps(listed, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    click.echo(data, nl=False)  # bytes go to the binary stream as they are: UTF-8 whatever the locale


def tab_line(values: Iterable[str | list[str] | None]) -> str:
    """One row as tab-separated text: a tab inside a value becomes a space, other control
    characters are shown escaped, so a row is always one line of the same columns."""
    return "\t".join(printable(_flat(v)) for v in values)
