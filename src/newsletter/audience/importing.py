"""A subscriber CSV -> the list of record, idempotently, with a consent event for every change.

The rows are read with the same rules as a send's CSV (`audience.read_rows`: BOM, `,` or `;`,
invalid addresses and duplicates reported with their line). An import never re-subscribes an
address that unsubscribed or is suppressed (erased people included, by keyed hash), and never
turns a row without consent into a subscriber. The whole file is one transaction: a file that
turns out to be unreadable halfway changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.csvfile import read_rows
from newsletter.audience.people import Skipped, Subscriber
from newsletter.store import consent, suppressions
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

    def counts(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def import_subscribers(
    db: sqlite3.Connection, path: Path, note: str = "", rows: Iterable[Subscriber | Skipped] | None = None
) -> ImportReport:
    """Add or update every consenting row of `path`; `note` says where the list came from.
    `rows` are the file's rows already read (so a bad file is refused before the database
    is even opened), if the caller has them."""
    report = ImportReport(path)
    if rows is None:
        rows = read_rows(path)  # checks the file and its header before the transaction starts
    where = path.resolve()
    with transaction(db):
        for row in rows:
            report.rows += 1
            if isinstance(row, Skipped):
                report.skipped.append(row)
                continue
            evidence = Evidence("import", f"{where} line {row.line}" + (f"; {note}" if note else ""))
            _import_row(db, row, evidence, report)
    return report


def _import_row(db: sqlite3.Connection, row: Subscriber, evidence: Evidence, report: ImportReport) -> None:
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


def never_used(db: sqlite3.Connection) -> bool:
    """No subscriber and no consent event yet: the list has never been filled (see `seed`)."""
    return not db.execute(
        "SELECT (SELECT count(*) FROM subscribers) + (SELECT count(*) FROM consent_events)"
    ).fetchone()[0]


def seed(db: sqlite3.Connection, path: Path) -> ImportReport | None:
    """The first use of an empty list imports `path` (subscribers.csv, or the example list);
    None when the list was already filled or there is no such file."""
    if not never_used(db) or not path.is_file():
        return None
    return import_subscribers(db, path, "first use of an empty list")
