"""Who a send considers: the list of record streamed from the database, or a one-off CSV.
(The preview's reader picker asks the same list through `list_readers`, read-only.)

Both give the plan (`send.plan`) the same thing: every subscriber with why they are left out
(not in the segment, suppressed) or None, and the journal's state for this issue. The
database is read a page at a time in address order, joined with the journal and the
suppression list in SQL, so memory stays flat however long the list (addresses were
validated once, at import: email-validator costs ~150 us an address).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from newsletter.audience.csvfile import Audience, load_audience
from newsletter.audience.importing import never_used, seed
from newsletter.audience.people import DUPLICATE, Skipped, Subscriber
from newsletter.audience.targeting import NOT_IN_SEGMENT, SUPPRESSED, Targeting, target, targeting
from newsletter.audit.identity import Staff
from newsletter.content.issue import Issue
from newsletter.store import Connection, Location, connect, exists
from newsletter.store.connection import shown
from newsletter.store.journal import SMTP, Journal
from newsletter.store.subscribers import SUBSCRIBED

PAGE = 5000
Row = tuple[Subscriber, str | None, str | None]  # subscriber, why left out, journal state

_PAGE_SQL = """
SELECT s.email, s.first_name, s.last_name, s.ward, s.tags, s.consented_at, x.reason, d.state
FROM subscribers s
LEFT JOIN suppressions x ON x.email = s.email
LEFT JOIN deliveries d ON d.issue = ? AND d.route = ? AND d.email = s.email
WHERE s.status = ? AND s.email > ? ORDER BY s.email LIMIT ?"""

_READERS_SQL = """
SELECT s.email, s.first_name, s.last_name, s.ward, s.tags, s.consented_at FROM subscribers s
WHERE s.status = ? AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email) {}
ORDER BY s.email LIMIT ?"""
_READERS_COUNT_SQL = """
SELECT count(*) FROM subscribers s
WHERE s.status = ? AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email)"""

_WARDS_SQL = "SELECT DISTINCT ward FROM subscribers WHERE status = ?"
_TAGS_SQL = "SELECT DISTINCT tags FROM subscribers WHERE status = ?"


class Recipients(Protocol):
    """A send's candidates: see the module docstring."""

    source: str

    def rejected(self) -> list[Skipped]:
        """Rows left out before targeting (a CSV's invalid, duplicate, no-consent rows)."""

    def rows(self, issue: str) -> Iterator[Row]: ...

    def record(self, journal: Journal, issue: str) -> None:
        """Write every targeted recipient as pending and everyone left out with the reason."""


def known_names(db: Connection, *, wards: bool, tags: bool) -> tuple[list[str], list[str]]:
    """The distinct wards and `;`-joined tag sets of the subscribed people, asked of SQLite (one
    pass over the table each, in C; see docs/benchmarks.md) and only for what a send names."""

    def distinct(sql: str) -> list[str]:
        return [value for (value,) in db.execute(sql, (SUBSCRIBED,))]

    return (distinct(_WARDS_SQL) if wards else [], distinct(_TAGS_SQL) if tags else [])


@dataclass(frozen=True)
class ListReaders:
    """Some of the people a send of the list would consider, and how many there are in all."""

    subscribers: list[Subscriber]
    total: int


def list_readers(database: Location, limit: int, email: str | None = None) -> ListReaders | None:
    """The subscribed, unsuppressed people of the list of record (the first `limit` in address
    order, or only the one with `email`), read-only: for the preview, which must show the people
    a send mails and never write the database. None when the database does not exist or has
    never held anyone: a send would first import the seed list, so the preview reads that CSV,
    as a dry run does (`select`)."""
    if not exists(database):
        return None
    with connect(database) as db:
        if never_used(db):
            return None
        where, params = ("AND s.email = ?", (email.strip().lower(),)) if email is not None else ("", ())
        rows = db.execute(_READERS_SQL.format(where), (SUBSCRIBED, *params, limit)).fetchall()
        total = len(rows) if email is not None else int(db.execute(_READERS_COUNT_SQL, (SUBSCRIBED,)).scalar_one())
    people = [
        Subscriber(e, first, last, ward, tuple(t for t in tags.split(";") if t), _iso(consented))
        for e, first, last, ward, tags, consented in rows
    ]
    return ListReaders(people, total)


def _iso(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


class ListRecipients:
    """The subscribed people of the database, a page at a time."""

    def __init__(
        self, db: Connection, targeting: Targeting, source: str, page: int = PAGE, *, route: str = SMTP
    ) -> None:
        self.db = db
        self.route = route  # the journal rows read: those of this send's route only
        self.targeting = targeting
        self.source = source
        self.page = page
        self._tags: dict[str, tuple[str, ...]] = {}
        self._dates: dict[str, dt.date | None] = {}
        wards, tags = known_names(db, wards=targeting.asks_for("ward"), tags=targeting.asks_for("tag"))
        targeting.check_names(wards, {tag for text in tags for tag in self._split(text)})

    def rejected(self) -> list[Skipped]:
        return []

    def _split(self, text: str) -> tuple[str, ...]:
        found = self._tags.get(text)
        if found is None:
            found = self._tags[text] = tuple(sys.intern(t) for t in text.split(";") if t)
        return found

    def _date(self, text: str | None) -> dt.date | None:
        if text is None:
            return None
        if text not in self._dates:
            self._dates[text] = dt.date.fromisoformat(text[:10])
        return self._dates[text]

    def rows(self, issue: str) -> Iterator[Row]:
        after = ""
        left_out = self.targeting.left_out
        while True:
            page = self.db.execute(_PAGE_SQL, (issue, self.route, SUBSCRIBED, after, self.page)).fetchall()
            for email, first, last, ward, tags, consented, suppressed, state in page:
                subscriber = Subscriber(email, first, last, sys.intern(ward), self._split(tags), self._date(consented))
                if suppressed is not None:
                    yield subscriber, SUPPRESSED, state
                elif left_out(subscriber) is not None:
                    yield subscriber, NOT_IN_SEGMENT, state
                else:
                    yield subscriber, None, state
            if len(page) < self.page:
                return
            after = page[-1][0]

    def record(self, journal: Journal, issue: str) -> None:
        targeted = (s.email for s, reason, _ in self.rows(issue) if reason is None)
        left_out = ((s.email, reason) for s, reason, _ in self.rows(issue) if reason is not None)
        journal.prepare(issue, targeted, left_out)


class FileRecipients:
    """A CSV already read and targeted (`targeting.target`), with the journal's states."""

    def __init__(self, audience: Audience, journal: Journal) -> None:
        self.audience = audience
        self.journal = journal
        self.source = str(audience.path)

    def rejected(self) -> list[Skipped]:
        return self.audience.skipped

    def rows(self, issue: str) -> Iterator[Row]:
        settled = self.journal.settled_states(issue)
        for subscriber in self.audience.subscribers:
            yield subscriber, None, settled.get(subscriber.email.lower())

    def record(self, journal: Journal, issue: str) -> None:
        eligible = {s.email.lower() for s in self.audience.subscribers}
        skipped = [
            (s.email, s.reason)
            for s in self.audience.skipped
            if s.reason != DUPLICATE and s.email and s.email.lower() not in eligible
        ]
        journal.prepare(issue, (s.email for s in self.audience.subscribers), skipped)


@dataclass
class Selection:
    """The recipients a send or dry run uses, the CSV audience when it reads one (for its
    per-row report), and notes for the user."""

    recipients: Recipients
    audience: Audience | None = None
    notes: list[str] = field(default_factory=list)


def select(
    journal: Journal,
    database: Location,
    issue: Issue,
    one_off: Audience | None,
    seed_list: Path,
    *,
    wards: Sequence[str] = (),
    tags: Sequence[str] = (),
    write: bool = True,
    staff: Staff | None = None,
) -> Selection:
    """A one-off CSV when given (read by the caller before the database was opened, so a refused
    file creates nothing); else the database's list, filled from `seed_list` on first use (a dry
    run, which writes nothing, reads `seed_list` instead and says so; `staff` is who the import's
    audit entry names). `journal` is open on
    `database` (or, for a dry run before the file exists, on an empty database in memory)."""
    if one_off is not None:
        return _from_file(journal, database, issue, one_off, wards, tags, [])
    notes = []
    if never_used(journal.db):
        if not write:
            if seed_list.is_file():
                note = (
                    f"the list in {shown(database)} is empty: this dry run reads {seed_list}, which a real send imports"
                )
                return _from_file(journal, database, issue, load_audience(seed_list), wards, tags, [note])
        elif (report := seed(journal.db, seed_list, staff, issue.slug)) is not None:
            notes.append(
                f"the list was empty: imported {seed_list} into {shown(database)} ({report.added:,} added, "
                f"{len(report.skipped):,} skipped); from now on the database is the list "
                "(see `newsletter subscribers`)"
            )
    recipients = ListRecipients(
        journal.db, targeting(issue, wards, tags), f"the list in {shown(database)}", route=journal.route
    )
    return Selection(recipients, None, notes)


def _from_file(
    journal: Journal,
    database: Location,
    issue: Issue,
    read: Audience,
    wards: Sequence[str],
    tags: Sequence[str],
    notes: list[str],
) -> Selection:
    audience = target(read, issue, wards=wards, tags=tags, journal_path=database)
    return Selection(FileRecipients(audience, journal), audience, notes)
