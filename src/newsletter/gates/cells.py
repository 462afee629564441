"""The CSV export gate: no cell a spreadsheet would read as a formula (OWASP, CSV injection).

Relay replies, bounce details and addresses come from outside the office; a cell that starts
with `=`, `+`, `-`, `@`, a tab or a line break is a formula to Excel and LibreOffice
(`=HYPERLINK(...)`, `@SUM(...)`, DDE). Following OWASP's guidance, such a cell gets a
leading single quote (`'=1+1` shows as text), every cell is quoted and inner quotes doubled.
The full-width forms of these four (U+FF1D, U+FF0B, U+FF0D, U+FF20) are treated the same.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from newsletter.errors import InputError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def cell(value: object) -> str:
    """One cell as text, neutralised if a spreadsheet would evaluate it."""
    text = "" if value is None else str(value)
    # Quotes already in front count too, so that `restore` can tell ours from the data's.
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def restore(text: str) -> str:
    """Undo `cell` when reading back an export of ours (a CSV round trip keeps the value)."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START) else text


def repeated_column(path: object, names: Sequence[str], read: Iterable[str]) -> None:
    """Refuse a header that names a column the reader uses twice (`names` as the reader
    normalised them): a dict of the row would silently keep the last cell, so two `ward` columns
    would import the second without a word. Columns nobody reads may repeat; they are ignored."""
    wanted = set(read)
    first: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name not in wanted:
            continue
        if name in first:
            raise InputError(
                f"{path}:1: columns {first[name]} and {number} are both {name!r}: which one should be read?",
                hint="delete or rename one of them (headings compare without regard to case or spaces at either end)",
            )
        first[name] = number


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, lineterminator: str = "\r\n") -> bytes:
    """A whole CSV export, UTF-8, every cell quoted and neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
