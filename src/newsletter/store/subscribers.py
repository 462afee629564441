"""The list of record: one row per address (lower-cased), its status and preferences.

Every change appends a consent event with its evidence (`consent.py`) in the same transaction,
and each function commits before it returns, so a web page can answer as soon as it is back.
Statuses: pending (signed up, not confirmed: never mailed), subscribed, unsubscribed.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError
from newsletter.store import consent, suppressions
from newsletter.store.connection import Connection
from newsletter.store.consent import Evidence
from newsletter.store.database import StorageError, now, transaction

PENDING, SUBSCRIBED, UNSUBSCRIBED = "pending", "subscribed", "unsubscribed"
STATUSES = (PENDING, SUBSCRIBED, UNSUBSCRIBED)
LIST_COLUMNS = ("email", "status", "first_name", "last_name", "ward", "tags", "consented_at", "created_at")
EXPORT_COLUMNS = ("email", "first_name", "last_name", "ward", "tags", "consented_at", "status")
COLUMNS = "email, first_name, last_name, ward, tags, status, created_at, updated_at, consented_at, confirmation_sent_at"

__all__ = [
    "Evidence",
    "SubscriberRecord",
    "add_pending",
    "confirm",
    "get",
    "mark_confirmation_sent",
    "unsubscribe",
    "unsubscribe_all",
    "update_preferences",
]


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """One address on the list of record."""

    email: str
    first_name: str
    last_name: str
    ward: str
    tags: tuple[str, ...]
    status: str
    created_at: str
    updated_at: str
    consented_at: str | None
    confirmation_sent_at: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def listed(self) -> dict[str, str | list[str] | None]:
        """What `subscribers list --format csv|json` shows, by LIST_COLUMNS."""
        return {
            "email": self.email,
            "status": self.status,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "ward": self.ward,
            "tags": list(self.tags),
            "consented_at": self.consented_at,
            "created_at": self.created_at,
        }


def join_tags(tags: Iterable[str]) -> str:
    """Tags as stored: lower-case, unique, in the order given, ';'-joined."""
    return ";".join(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))


def split_tags(text: str) -> tuple[str, ...]:
    return tuple(t for t in text.split(";") if t)


def _record(row: tuple[str, ...]) -> SubscriberRecord:
    email, first, last, ward, tags, status, created, updated, consented, sent = row
    return SubscriberRecord(email, first, last, ward, split_tags(tags), status, created, updated, consented, sent)


def get(db: Connection, email: str) -> SubscriberRecord | None:
    row = db.execute(f"SELECT {COLUMNS} FROM subscribers WHERE email = ?", (email.strip().lower(),)).fetchone()
    return _record(row) if row else None


def iterate(db: Connection, status: str | None = None, page: int = 1000) -> Iterator[SubscriberRecord]:
    """Every subscriber (optionally of one status) in address order, read a page at a time."""
    after = ""
    where = "email > ?" + (" AND status = ?" if status else "")
    while True:
        params: tuple[str | int, ...] = (after, status, page) if status else (after, page)
        rows = db.execute(f"SELECT {COLUMNS} FROM subscribers WHERE {where} ORDER BY email LIMIT ?", params).fetchall()
        for row in rows:
            yield _record(row)
        if len(rows) < page:
            return
        after = rows[-1][0]


def counts(db: Connection) -> dict[str, int]:
    """How many subscribers have each status."""
    found = dict(db.execute("SELECT status, count(*) FROM subscribers GROUP BY status").fetchall())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def insert(
    db: Connection,
    email: str,
    first_name: str,
    last_name: str,
    ward: str,
    tags: Iterable[str],
    status: str,
    consented_at: str | None,
    at: str | None = None,
) -> None:
    """A new row (part of the caller's transaction); the caller records the event."""
    stamp = at or now()
    db.execute(
        "INSERT INTO subscribers (email, first_name, last_name, ward, tags, status, created_at, updated_at, "
        "consented_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (email.lower(), first_name, last_name, ward, join_tags(tags), status, stamp, stamp, consented_at),
    )


def add_pending(
    db: Connection,
    email: str,
    first_name: str,
    last_name: str,
    ward: str,
    tags: Iterable[str],
    evidence: Evidence,
) -> SubscriberRecord:
    """A signup: a new or unsubscribed address becomes pending with these details (event
    "signed-up"). A subscribed person is never downgraded and their details are not changed by
    an unconfirmed form; a suppressed address stays suppressed. A second signup while pending
    never clears what the first one gave: a field left empty keeps its value and topics are
    added to (a shorter form, or one without the ward, must not wipe a person's choices)."""
    key = email.strip().lower()
    with transaction(db):
        existing = get(db, key)
        if existing is None:
            insert(db, key, first_name, last_name, ward, tags, PENDING, None)
        elif existing.status == PENDING:
            db.execute(
                "UPDATE subscribers SET first_name = ?, last_name = ?, ward = ?, tags = ?, updated_at = ? "
                "WHERE email = ?",
                (
                    first_name or existing.first_name,
                    last_name or existing.last_name,
                    ward or existing.ward,
                    join_tags([*existing.tags, *tags]),
                    now(),
                    key,
                ),
            )
        elif existing.status == UNSUBSCRIBED:
            db.execute(
                "UPDATE subscribers SET first_name = ?, last_name = ?, ward = ?, tags = ?, status = ?, "
                "updated_at = ? WHERE email = ?",
                (first_name, last_name, ward, join_tags(tags), PENDING, now(), key),
            )
        consent.record(db, key, "signed-up", evidence)
        record = get(db, key)
    assert record is not None
    return record


def confirm(db: Connection, email: str, evidence: Evidence) -> bool:
    """Double opt-in: pending -> subscribed (event "confirmed", consented_at set). A suppression
    for having unsubscribed is lifted by this fresh, confirmed consent; one for a bounce or a
    complaint is not. False when there was nothing to confirm."""
    key = email.strip().lower()
    with transaction(db):
        stamp = now()
        cursor = db.execute(
            "UPDATE subscribers SET status = ?, consented_at = ?, updated_at = ? WHERE email = ? AND status = ?",
            (SUBSCRIBED, stamp, stamp, key, PENDING),
        )
        if cursor.rowcount != 1:
            return False
        consent.record(db, key, "confirmed", evidence, stamp)
        db.execute("DELETE FROM suppressions WHERE email = ? AND reason = 'unsubscribed'", (key,))
    return True


def mark_confirmation_sent(db: Connection, email: str, at: str) -> None:
    with transaction(db):
        db.execute("UPDATE subscribers SET confirmation_sent_at = ? WHERE email = ?", (at, email.strip().lower()))


def update_preferences(
    db: Connection,
    email: str,
    *,
    first_name: str,
    last_name: str,
    ward: str,
    tags: Iterable[str],
    evidence: Evidence,
) -> None:
    """New name, ward and topics (event "preferences-changed" naming what changed); an address
    not on the list is left alone."""
    key = email.strip().lower()
    with transaction(db):
        old = get(db, key)
        if old is None:
            return
        new = {"first_name": first_name, "last_name": last_name, "ward": ward, "tags": join_tags(tags)}
        before = {
            "first_name": old.first_name,
            "last_name": old.last_name,
            "ward": old.ward,
            "tags": ";".join(old.tags),
        }
        changed = [name for name in new if new[name] != before[name]]
        db.execute(
            "UPDATE subscribers SET first_name = ?, last_name = ?, ward = ?, tags = ?, updated_at = ? WHERE email = ?",
            (first_name, last_name, ward, new["tags"], now(), key),
        )
        detail = evidence.detail or ("changed: " + ", ".join(changed) if changed else "nothing changed")
        consent.record(
            db,
            key,
            "preferences-changed",
            Evidence(evidence.source, detail, evidence.wording, evidence.ip, evidence.user_agent, evidence.actor),
        )


def unsubscribe(db: Connection, email: str, evidence: Evidence) -> None:
    """Status unsubscribed (if on the list), event "unsubscribed", and the address suppressed."""
    with transaction(db):
        record_unsubscribe(db, email, evidence)


def unsubscribe_all(db: Connection, requests: Sequence[tuple[str, Evidence]]) -> None:
    """`unsubscribe` for each (address, evidence) in one transaction: one commit (one fsync on
    SQLite) for a burst of them, all or none (`web.group_commit`)."""
    with transaction(db):
        for email, evidence in requests:
            record_unsubscribe(db, email, evidence)


def record_unsubscribe(db: Connection, email: str, evidence: Evidence) -> bool:
    """`unsubscribe` inside the caller's transaction (several addresses, all or none);
    True when the address was not suppressed before."""
    key = email.strip().lower()
    db.execute("UPDATE subscribers SET status = ?, updated_at = ? WHERE email = ?", (UNSUBSCRIBED, now(), key))
    consent.record(db, key, "unsubscribed", evidence)
    return suppressions.add(db, key, "unsubscribed", evidence.source, evidence.detail)


class Refused(InputError):
    """A change the list of record does not allow (re-subscribing a suppressed address)."""


def add_by_staff(
    db: Connection,
    email: str,
    first_name: str,
    last_name: str,
    ward: str,
    tags: Iterable[str],
    consented_at: str,
    evidence: Evidence,
) -> SubscriberRecord:
    """Subscribe a person who gave consent to the office (event "added"); refuses an address
    that unsubscribed or is suppressed (only the person can sign up again), and one already on
    the list: an add would overwrite their name, ward and tags with what this one was given.
    `edit` changes an existing person field by field."""
    key = email.strip().lower()
    with transaction(db):
        reason = suppressions.is_suppressed(db, key)
        existing = get(db, key)
        if reason is not None:
            raise Refused(
                f"{key}: on the suppression list ({reason}); not added",
                hint="only `newsletter suppressions remove` lifts it, when the person asks",
            )
        if existing is not None and existing.status == UNSUBSCRIBED:
            raise Refused(
                f"{key}: unsubscribed {existing.updated_at[:10]}; not added",
                hint="the person can sign up again through the form",
            )
        if existing is not None:
            raise Refused(
                f"{key}: already on the list ({existing.status}), not changed; to change only what you "
                f"give: newsletter subscribers edit {key} [--first-name] [--last-name] [--ward] [--tag/--untag]"
            )
        insert(db, key, first_name, last_name, ward, tags, SUBSCRIBED, consented_at)
        consent.record(db, key, "added", evidence)
        record = get(db, key)
    assert record is not None
    return record


def _cell(value: str) -> str:
    """A spreadsheet never runs a formula made from data: such a cell gets a leading quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(db: Connection, path: Path, status: str | None = SUBSCRIBED) -> int:
    """Write the list (one status, or all) as a CSV `subscribers import` reads back. Streamed to
    a temporary file beside `path` and renamed over it: never a half-written export."""
    count = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as out:
            try:
                writer = csv.writer(out, lineterminator="\r\n")
                writer.writerow(EXPORT_COLUMNS)
                for r in iterate(db, status):
                    writer.writerow(
                        [
                            r.email,
                            _cell(r.first_name),
                            _cell(r.last_name),
                            _cell(r.ward),
                            _cell(";".join(r.tags)),
                            (r.consented_at or "")[:10],
                            r.status,
                        ]
                    )
                    count += 1
            except BaseException:
                out.close()
                Path(out.name).unlink(missing_ok=True)
                raise
        os.replace(out.name, path)
    except OSError as exc:
        raise StorageError(f"{path}: cannot write: {exc.strerror}") from exc
    return count
