"""Privacy requests (UK GDPR): everything held about one person, and erasing it.

Erasure deletes the person's rows everywhere in the database (the list, consent events,
deliveries, bounces, suppressions, the address in test-send runs) and keeps only a keyed hash
of the address in `suppressed_hashes`, so a later import cannot silently add them back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from newsletter.store import consent, suppressions
from newsletter.store import subscribers as subs
from newsletter.store.connection import Connection
from newsletter.store.database import transaction

ERASED = "[erased]"


def _rows(db: Connection, sql: str, email: str) -> list[dict[str, Any]]:
    cursor = db.execute(sql, (email,))
    names = cursor.columns()
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _containing(text: str) -> str:
    """A LIKE pattern for "contains `text`", its own `%`, `_` and `\\` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def export_person(db: Connection, email: str) -> dict[str, Any]:
    """Everything the database holds about one address, as plain JSON-ready data."""
    key = email.strip().lower()
    record = subs.get(db, key)
    return {
        "email": key,
        "subscriber": asdict(record) if record else None,
        "consent_events": [asdict(e) for e in consent.events(db, key)],
        "deliveries": _rows(
            db,
            "SELECT issue, state, reason, attempts, last_reply, message_id, edition, created_at, "
            "updated_at FROM deliveries WHERE email = ? ORDER BY created_at, issue",
            key,
        ),
        "suppressions": _rows(db, "SELECT reason, source, detail, created_at FROM suppressions WHERE email = ?", key),
        "bounces": _rows(
            db,
            "SELECT kind, issue, status, detail, cleared, created_at FROM bounce_events "
            "WHERE email = ? ORDER BY created_at",
            key,
        ),
        "erased_before": db.execute(
            "SELECT count(*) FROM suppressed_hashes WHERE hash = ?", (suppressions.email_hash(db, key),)
        ).fetchone()[0]
        > 0,
        "test_sends": _rows(
            db,
            "SELECT issue, destination, started_at FROM sends WHERE kind = 'test' AND "
            "lower(recipients) LIKE ? ESCAPE '\\' ORDER BY id",
            _containing(key),
        ),
    }


@dataclass(frozen=True)
class Erasure:
    """How many rows of each kind were deleted for one address."""

    email: str
    subscriber: int
    consent_events: int
    deliveries: int
    suppressions: int
    bounces: int
    test_sends: int

    @property
    def total(self) -> int:
        return (
            self.subscriber + self.consent_events + self.deliveries + self.suppressions + self.bounces + self.test_sends
        )


def scrub(db: Connection) -> None:
    """After an erasure commits: old copies of the deleted pages leave SQLite's write-ahead log too."""
    if db.backend == "sqlite":
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def erase(db: Connection, email: str) -> Erasure:
    """Delete every row about `email` and remember it only as a keyed hash, in one transaction."""
    key = email.strip().lower()
    if db.backend == "sqlite":
        db.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not left in free pages
    with transaction(db):
        counts = [
            db.execute(f"DELETE FROM {table} WHERE email = ?", (key,)).rowcount
            for table in ("subscribers", "consent_events", "deliveries", "suppressions", "bounce_events")
        ]
        runs = db.execute(
            "SELECT id, recipients FROM sends WHERE kind = 'test' AND lower(recipients) LIKE ? ESCAPE '\\'",
            (_containing(key),),
        ).fetchall()
        for run, recipients in runs:
            kept = ", ".join(ERASED if r.strip().lower() == key else r.strip() for r in recipients.split(","))
            db.execute("UPDATE sends SET recipients = ? WHERE id = ?", (kept, run))
        suppressions.add_hash(db, key)
    if not db.in_transaction:  # else the caller's transaction (an audited erasure) calls it after its commit
        scrub(db)
    subscriber, events, deliveries, suppressed, bounces = counts
    return Erasure(key, subscriber, events, deliveries, suppressed, bounces, len(runs))
