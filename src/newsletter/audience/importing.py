"""A subscriber CSV -> the list of record, idempotently, with a consent event for every change.

The rows are read with the same rules as a send's CSV (`audience.read_rows`: BOM, `,` or `;`,
invalid addresses and duplicates reported with their line). An import never re-subscribes an
address that unsubscribed or is suppressed (erased people included, by keyed hash), and never
turns a row without consent into a subscriber. The whole file is one transaction: a file that
turns out to be unreadable halfway changes nothing.

An import keeps everyone or says why not: a row whose address or consent date cannot be read
for sure stops the whole import before the database is opened, every such row listed
(`read_import`), unless the office asks to skip them; then the report counts them. A silent
skip was how a UK list's `03/04/2018` dates once dropped people with exit 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from newsletter import audit
from newsletter.audience.csvfile import read_rows
from newsletter.audience.people import CASEWORK, INVALID_REASONS, UNREADABLE, Skipped, Subscriber
from newsletter.audit.actions import file_facts
from newsletter.audit.identity import Staff
from newsletter.errors import InputError
from newsletter.gates.dates import date_format
from newsletter.gates.text import shown
from newsletter.store import Connection, consent, suppressions
from newsletter.store import subscribers as subs
from newsletter.store.consent import Evidence
from newsletter.store.database import now, transaction

UNSUBSCRIBED = "unsubscribed"
SUPPRESSED = "suppressed"


@dataclass
class ImportReport:
    """What one import did: counts, and every row it skipped with its line and reason."""

    path: Path
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # columns of the file that nothing reads
    split_name: bool = False  # a `name` column was split into first and last name

    def counts(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    @property
    def invalid(self) -> int:
        """Rows left out because a value could not be read (only with `skip_invalid`)."""
        return sum(1 for s in self.skipped if s.reason in INVALID_REASONS)


class InvalidRows(InputError):
    """An import refused for rows it cannot read: one line per row, `file:line: column: value: why`."""


@dataclass
class ImportFile:
    """A subscriber CSV read for an import and checked, before any database is opened."""

    path: Path
    rows: list[Subscriber | Skipped]
    ignored: list[str]
    split_name: bool


def read_import(path: Path, dates: str | None = None, *, skip_invalid: bool = False) -> ImportFile:
    """Read `path` for an import, its dates written as `dates` (`--date-format`: iso, dmy, mdy
    or a strftime pattern; None is day first). Raises `InvalidRows` naming every row with an
    unreadable address or value, unless `skip_invalid`."""
    try:
        form = date_format(dates)
    except ValueError as exc:
        raise InputError(f"--date-format: {exc}") from None
    rows = read_rows(path, form)
    listed = list(rows)
    bad = [row for row in listed if isinstance(row, Skipped) and row.reason in INVALID_REASONS]
    if bad and not skip_invalid:
        lines = [
            f"{path}:{row.line}: {row.detail}"
            if row.reason == UNREADABLE
            else f"{path}:{row.line}: email: {shown(row.email, 40)}: {row.detail}"
            for row in bad
        ]
        dated = any(row.detail.startswith("consented_at:") for row in bad)
        how = ", or say how the list writes dates: --date-format iso, dmy, mdy or a pattern like %m/%d/%Y"
        casework = sum(1 for row in bad if row.reason == CASEWORK)
        what = f"{len(bad):,} {'row' if len(bad) == 1 else 'rows'} of {path}"
        what += " cannot be read" if not casework else " cannot be imported"
        fix = f" correct them{how if dated else ''}"
        if casework:
            fix += "; a casework contact joins the newsletter only with a consented_at date of newsletter consent"
        raise InvalidRows(
            "\n".join(lines),
            hint=f"nothing was imported: {what};{fix}, or pass --skip-invalid to import the other rows",
        )
    return ImportFile(path, listed, rows.header.ignored, rows.header.split_name)


def import_subscribers(
    db: Connection,
    path: Path,
    note: str = "",
    rows: ImportFile | None = None,
    *,
    staff: Staff | None = None,
    issue: str | None = None,
) -> ImportReport:
    """Add or update every consenting row of `path`; `note` says where the list came from.
    `rows` is the file already read (`read_import`, so a bad file is refused before the
    database is even opened), if the caller has it; else the file is read here, strictly.
    With `staff`, the import's audit entry (file name, checksum, counts; `issue` when a send
    did it) commits with it."""
    if rows is None:
        rows = read_import(path)  # checks the file and its rows before the transaction starts
    report = ImportReport(path, ignored=rows.ignored, split_name=rows.split_name)
    where = path.resolve()
    with transaction(db):
        for row in rows.rows:
            report.rows += 1
            if isinstance(row, Skipped):
                report.skipped.append(row)
                continue
            evidence = Evidence("import", f"{where} line {row.line}" + (f"; {note}" if note else ""))
            _import_row(db, row, evidence, report)
        if staff is not None:
            counts = {"rows": report.rows, "added": report.added, "updated": report.updated}
            counts |= {"unchanged": report.unchanged, "skipped": len(report.skipped)}
            audit.record(db, "import", staff=staff, issue=issue, details={**file_facts(path), **counts, "source": note})
    return report


def _import_row(db: Connection, row: Subscriber, evidence: Evidence, report: ImportReport) -> None:
    reason = suppressions.is_suppressed(db, row.email)
    if reason is not None:
        report.skipped.append(Skipped(row.line, row.email, SUPPRESSED, f"on the suppression list ({reason})"))
        return
    existing = subs.get(db, row.email)
    if existing is not None and existing.status == subs.UNSUBSCRIBED:
        report.skipped.append(
            Skipped(
                row.line,
                row.email,
                UNSUBSCRIBED,
                f"unsubscribed {existing.updated_at[:10]}; only they can sign up again",
            )
        )
        return
    consented = row.consented_at.isoformat() if row.consented_at else None
    if existing is None:
        subs.insert(db, row.email, row.first_name, row.last_name, row.ward, row.tags, subs.SUBSCRIBED, consented)
        consent.record(db, row.email, "imported", evidence)
        report.added += 1
        return
    new = (row.first_name, row.last_name, row.ward, subs.split_tags(subs.join_tags(row.tags)))
    if existing.status == subs.SUBSCRIBED and new == (
        existing.first_name,
        existing.last_name,
        existing.ward,
        existing.tags,
    ):
        report.unchanged += 1
        return
    db.execute(
        "UPDATE subscribers SET first_name = ?, last_name = ?, ward = ?, tags = ?, status = ?, "
        "consented_at = coalesce(consented_at, ?), updated_at = ? WHERE email = ?",
        (
            row.first_name,
            row.last_name,
            row.ward,
            subs.join_tags(row.tags),
            subs.SUBSCRIBED,
            consented,
            now(),
            existing.email,
        ),
    )
    kind = "preferences-changed" if existing.status == subs.SUBSCRIBED else "imported"
    consent.record(db, row.email, kind, evidence)
    report.updated += 1


def never_used(db: Connection) -> bool:
    """No subscriber and no consent event yet: the list has never been filled (see `seed`)."""
    return not db.execute(
        "SELECT (SELECT count(*) FROM subscribers) + (SELECT count(*) FROM consent_events)"
    ).fetchone()[0]


SEEDED = "automatic import by the first send (the list was empty)"


def seed(db: Connection, path: Path, staff: Staff | None = None, issue: str | None = None) -> ImportReport | None:
    """The first use of an empty list imports `path` (subscribers.csv, or the example list);
    None when the list was already filled or there is no such file. With `staff` (a send always
    gives it) the import is logged like `subscribers import`, as the send's automatic one: it
    fills the list of record as surely as a staff member's import does."""
    if not never_used(db) or not path.is_file():
        return None
    # A send's first use reports its skipped rows (and a dry run lists them) rather than refusing.
    checked = read_import(path, skip_invalid=True)
    return import_subscribers(db, path, SEEDED, checked, staff=staff, issue=issue)
