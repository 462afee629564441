"""Subscriber CSV -> the audience: validated, de-duplicated, consent checked, with a report.

Nothing about a bad row stops the good rows; every skipped row is reported with its line
and the reason, so staff can fix the list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.people import DUPLICATE, INVALID, NO_CONSENT, Skipped, Subscriber
from newsletter.errors import InputError
from newsletter.gates.address import check_address, clean_name
from newsletter.gates.text import shown

COLUMNS = ("email", "first_name", "last_name", "ward", "tags", "consented_at")


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


def _header(path: Path, text: str) -> tuple[str, list[str]]:
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
    return delimiter, header


def _consent(value: str) -> dt.date:
    text = value.strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"consented_at {text!r} is not an ISO date") from None


def load_audience(path: Path) -> Audience:
    """Read a subscriber CSV: UTF-8 with or without BOM, `,` or `;`, blank lines allowed."""
    audience = Audience(path)
    for row in read_rows(path):
        audience.rows += 1
        if isinstance(row, Skipped):
            audience.skipped.append(row)
        else:
            audience.subscribers.append(row)
    return audience


def read_rows(path: Path) -> Iterator[Subscriber | Skipped]:
    """Every data row of a subscriber CSV in order, as a Subscriber or as a Skipped row and why.
    The file is checked (readable, UTF-8, a header with `email`) before the first row."""
    text = _read_text(path)
    delimiter, header = _header(path, text)
    return _rows(path, text, delimiter, header)


def _rows(path: Path, text: str, delimiter: str, header: list[str]) -> Iterator[Subscriber | Skipped]:
    first_seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header_seen = False
    previous_end = 0
    while True:
        # Rows are streamed, not listed: a 100,000-row list keeps only the subscribers.
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.line_num}: unreadable CSV: {exc}") from exc
        line, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if not header_seen:
            header_seen = True
            continue
        record = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
        raw = record.get("email", "")
        try:
            email = check_address(raw)
        except ValueError as exc:
            yield Skipped(line, raw, INVALID, str(exc))
            continue
        key = email.lower()
        if key in first_seen:
            yield Skipped(line, email, DUPLICATE, f"same address as line {first_seen[key]}")
            continue
        first_seen[key] = line
        consent_text = record.get("consented_at", "")
        try:
            consented = _consent(consent_text) if consent_text else None
        except ValueError as exc:
            yield Skipped(line, email, NO_CONSENT, str(exc))
            continue
        if consented is None:
            yield Skipped(line, email, NO_CONSENT, "consented_at is empty")
            continue
        tags = tuple(t.strip().lower() for t in re.split(r"[;,|]", record.get("tags", "")) if t.strip())
        yield Subscriber(
            email=email,
            first_name=clean_name(record.get("first_name", "")),
            last_name=clean_name(record.get("last_name", "")),
            ward=sys.intern(clean_name(record.get("ward", ""))),
            tags=tuple(sys.intern(tag) for tag in tags),
            consented_at=consented,
            line=line,
        )
