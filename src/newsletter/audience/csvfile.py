"""Subscriber CSV -> the audience: validated, de-duplicated, consent checked, with a report.

Every row comes out as a subscriber or as a skipped row with its line and the reason, so staff
can fix the list; whether a skipped row stops the rest is the caller's choice (an import refuses
a list with unreadable values, a one-off send reports them). Consent dates are read day first
unless told otherwise (`gates.dates`); a list that also holds a month-first date makes its
03/04/2018 doubtful, and that row is refused rather than read as either.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.people import CASEWORK, DUPLICATE, INVALID, NO_CONSENT, UNREADABLE, Skipped, Subscriber
from newsletter.errors import InputError
from newsletter.gates.address import check_address, clean_name
from newsletter.gates.cells import repeated_column
from newsletter.gates.dates import DEFAULT, DateFormat, fits_both, month_first_only, read_date
from newsletter.gates.text import shown
from newsletter.store.subscribers import STATUSES, SUBSCRIBED

COLUMNS = ("email", "first_name", "last_name", "ward", "tags", "consented_at")
NAME = "name"  # one column for the whole name, split at its last word when there are no others
READ = (*COLUMNS, NAME, "status", "source")  # status: what `subscribers export` writes; only `subscribed` is kept
# A `source` cell saying `casework` (or `casework: housing`, any case) marks a contact the office
# has from casework. The ICO's guidance: such details may not be used for the newsletter unless
# the person consented to the newsletter itself, so the row needs its own consented_at.
CASEWORK_SOURCE = re.compile(r"casework(?!\w)")  # matched on the cell stripped and lower-cased


@dataclass
class Audience:
    """The eligible subscribers of one CSV, plus everything that was left out."""

    path: Path
    subscribers: list[Subscriber] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rows: int = 0

    def counts(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read subscriber list: {exc.strerror}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 text (save the list as CSV UTF-8)") from exc


@dataclass(frozen=True)
class Header:
    """What the first line says: the delimiter, the column names, the columns nobody reads, and
    whether a single `name` column is split into first and last name."""

    delimiter: str
    names: list[str]
    ignored: list[str]
    split_name: bool


def _header(path: Path, text: str) -> Header:
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise InputError(f"{path}: the subscriber list is empty")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(csv.reader([first], delimiter=delimiter))]
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise InputError(f"{path}:1: unreadable CSV header: {exc}") from None
    if "email" not in header:
        found = ", ".join(shown(h, 30) for h in header[:12]) + (", ..." if len(header) > 12 else "")
        raise InputError(
            f"{path}:1: no 'email' column in the header; found: {found}"
            f" (expected at least email; also read: {', '.join(COLUMNS[1:])})"
        )
    repeated_column(path, header, READ)
    both = [h for h in ("first_name", "last_name") if h in header]
    if NAME in header and both:
        raise InputError(
            f"{path}:1: both a 'name' column and {' and '.join(repr(h) for h in both)}: which one holds the name?",
            hint="delete or rename one of them (a lone 'name' column is split: its last word is the last name)",
        )
    ignored = [shown(h, 30) if h else f"column {i + 1} (no heading)" for i, h in enumerate(header) if h not in READ]
    if len(ignored) > 20:  # a 5,000-column export is named by count, not column by column
        ignored = [*ignored[:20], f"{len(ignored) - 20:,} more"]
    return Header(delimiter, header, ignored, NAME in header)


def _split(name: str) -> tuple[str, str]:
    """`Mary Jane Smith` -> (`Mary Jane`, `Smith`): the last word is the last name; one word is a
    first name (`Dear Margaret` reads better than `Dear Hughes`)."""
    words = name.split()
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (name, "")


def load_audience(path: Path, dates: DateFormat = DEFAULT) -> Audience:
    """Read a subscriber CSV: UTF-8 with or without BOM, `,` or `;`, blank lines allowed."""
    audience = Audience(path)
    for row in read_rows(path, dates):
        audience.rows += 1
        if isinstance(row, Skipped):
            audience.skipped.append(row)
        else:
            audience.subscribers.append(row)
    return audience


class SubscriberRows:
    """Every data row of a subscriber CSV in order, as a Subscriber or as a Skipped row and why
    (iterable more than once), with what the header said (`header.ignored`, `header.split_name`)."""

    def __init__(self, path: Path, text: str, header: Header, dates: DateFormat) -> None:
        self.path = path
        self.text = text
        self.header = header
        self.dates = dates

    def __iter__(self) -> Iterator[Subscriber | Skipped]:
        doubt = self._month_first() if not self.dates.given and "consented_at" in self.header.names else None
        first_seen: dict[str, int] = {}
        names = self.header.names
        for line, row in self._records():
            record = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(names)}
            yield self._row(line, record, first_seen, doubt)

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) for every row that is not blank, the header left out."""
        reader = csv.reader(io.StringIO(self.text), delimiter=self.header.delimiter)
        header_seen = False
        previous_end = 0
        while True:
            # Rows are streamed, not listed: a 100,000-row list keeps only the subscribers.
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"{self.path}:{reader.line_num}: unreadable CSV: {exc}") from exc
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if not header_seen:
                header_seen = True
                continue
            yield line, row

    def _month_first(self) -> tuple[int, str] | None:
        """The first line whose consent date can only be month first (12/25/2018), when the list
        was not said to be day first: then its 03/04/2018 could mean either."""
        column = self.header.names.index("consented_at")  # a cell only, no dict: a second pass costs little
        for line, row in self._records():
            if column < len(row) and month_first_only(row[column]):
                return line, row[column].strip()
        return None

    def _row(
        self, line: int, record: dict[str, str], first_seen: dict[str, int], doubt: tuple[int, str] | None
    ) -> Subscriber | Skipped:
        raw = record.get("email", "")
        try:
            email = check_address(raw)
        except ValueError as exc:
            return Skipped(line, raw, INVALID, str(exc))
        key = email.lower()
        if key in first_seen:
            return Skipped(line, email, DUPLICATE, f"same address as line {first_seen[key]}")
        first_seen[key] = line
        status = record.get("status", "").lower()
        if status not in ("", SUBSCRIBED):
            if status not in STATUSES:
                why = f"not one of {', '.join(STATUSES)}"
                return Skipped(line, email, UNREADABLE, f"status: {shown(status, 40)}: {why}")
            return Skipped(line, email, NO_CONSENT, f"{status} in the file's status column")
        consent_text = record.get("consented_at", "")
        if not consent_text and CASEWORK_SOURCE.match(record.get("source", "").lower()):
            why = "source is casework and the row has no newsletter consent of its own (consented_at is empty)"
            return Skipped(line, email, CASEWORK, why)
        if not consent_text:
            return Skipped(line, email, NO_CONSENT, "consented_at is empty")
        try:
            consented = read_date(consent_text, self.dates)
            if doubt is not None and fits_both(consent_text):
                raise ValueError(
                    f"ambiguous: {consented.day} {consented:%B %Y}, or month first as line {doubt[0]}"
                    f" ({shown(doubt[1], 30)}) is written"
                )
        except ValueError as exc:
            return Skipped(line, email, UNREADABLE, f"consented_at: {shown(consent_text, 40)}: {exc}")
        first, last = record.get("first_name", ""), record.get("last_name", "")
        if self.header.split_name:
            first, last = _split(clean_name(record.get(NAME, "")))
        tags = tuple(t.strip().lower() for t in re.split(r"[;,|]", record.get("tags", "")) if t.strip())
        return Subscriber(
            email=email,
            first_name=clean_name(first),
            last_name=clean_name(last),
            ward=sys.intern(clean_name(record.get("ward", ""))),
            tags=tuple(sys.intern(tag) for tag in tags),
            consented_at=consented,
            line=line,
        )


def read_rows(path: Path, dates: DateFormat = DEFAULT) -> SubscriberRows:
    """The rows of a subscriber CSV, with `dates` saying how its consent dates are written.
    The file is checked (readable, UTF-8, a header with `email`) before the first row."""
    text = _read_text(path)
    return SubscriberRows(path, text, _header(path, text), dates)
