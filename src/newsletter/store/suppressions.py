"""The suppression list: addresses the office must never mail again, with why, where from and when.

It lives in the project database, so one file holds the whole record of consent and sending.
Nothing in a subscriber CSV can undo an entry: only `remove` can. A person who asked to be
erased is kept only as a keyed hash of their address (`suppressed_hashes`): enough to refuse
them on a later import, not enough to read the address back.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError
from newsletter.fileio import write_atomic
from newsletter.gates import cells
from newsletter.gates.address import check_address
from newsletter.gates.text import shown
from newsletter.store import database
from newsletter.store.connection import Connection, Location
from newsletter.store.database import StorageError as StorageError
from newsletter.store.database import now, transaction

REASONS = ("unsubscribed", "hard-bounce", "soft-bounce", "complaint", "manual")
CSV_COLUMNS = ("email", "reason", "source", "detail", "created_at")
DETAIL_MAX = 500


@dataclass(frozen=True, slots=True)
class Suppression:
    """One address that is never mailed again."""

    email: str
    reason: str
    source: str
    detail: str
    created_at: str


def connect(path: Location) -> Connection:
    """Open (creating and migrating if needed) the project database."""
    return database.connect(path)


def email_hash(db: Connection, email: str) -> str:
    """The keyed hash an erased address is remembered by (HMAC-SHA256 with this database's key)."""
    key = db.execute("SELECT value FROM meta WHERE key = 'erasure_key'").fetchone()[0]
    return _keyed(bytes.fromhex(key), email)


def add_hash(db: Connection, email: str, reason: str = "erased") -> None:
    """Remember an erased address by its keyed hash only (part of the caller's transaction)."""
    db.execute(
        "INSERT INTO suppressed_hashes (hash, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (email_hash(db, email), reason, now("seconds")),
    )


def is_suppressed(db: Connection, email: str) -> str | None:
    """Why an address must not be mailed (its reason, or 'erased'), or None."""
    row = db.execute("SELECT reason FROM suppressions WHERE email = ?", (email.lower(),)).fetchone()
    if row:
        return str(row[0])
    row = db.execute("SELECT reason FROM suppressed_hashes WHERE hash = ?", (email_hash(db, email),)).fetchone()
    return str(row[0]) if row else None


def suppressed_addresses(path: Location) -> dict[str, Suppression]:
    """Every suppressed address (lowercased) -> its entry; empty when there is no database yet.

    Asks `exists` first, so a dry run or a send never creates the database just to find it empty.
    """
    if not database.exists(path):
        return {}
    with database.connect(path) as db:
        rows = db.execute("SELECT email, reason, source, detail, created_at FROM suppressions").fetchall()
    return {row[0]: Suppression(*row) for row in rows}


def erased_checker(path: Location | None) -> Callable[[str], bool]:
    """A test for "this address was erased on request" (by keyed hash), read once."""
    if path is None or not database.exists(path):
        return lambda email: False
    with database.connect(path) as db:
        key = bytes.fromhex(db.execute("SELECT value FROM meta WHERE key = 'erasure_key'").scalar_one())
        hashes = {row[0] for row in db.execute("SELECT hash FROM suppressed_hashes")}
    if not hashes:
        return lambda email: False
    return lambda email: _keyed(key, email) in hashes


def _keyed(key: bytes, email: str) -> str:
    return hmac.new(key, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def _clip(text: str) -> str:
    return " ".join(text.split())[:DETAIL_MAX]


def add(db: Connection, email: str, reason: str, source: str, detail: str = "", created_at: str | None = None) -> bool:
    """Suppress one address; True if it was new. An existing entry is kept as it was (the
    first reason is the one that matters for the record, and repeating is harmless)."""
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}")
    cursor = db.execute(
        "INSERT INTO suppressions (email, reason, source, detail, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (email.lower(), reason, _clip(source), _clip(detail), created_at or now("seconds")),
    )
    return cursor.rowcount == 1


def remove(db: Connection, email: str) -> Suppression | None:
    """Lift a suppression; its bounce history is marked cleared so old soft bounces do not
    count again, but kept so that re-importing an old mailbox does not re-suppress."""
    key = email.lower()
    with transaction(db):
        row = db.execute(
            "SELECT email, reason, source, detail, created_at FROM suppressions WHERE email = ?", (key,)
        ).fetchone()
        db.execute("DELETE FROM suppressions WHERE email = ?", (key,))
        db.execute("UPDATE bounce_events SET cleared = 1 WHERE email = ?", (key,))
    return Suppression(*row) if row else None


def entries(db: Connection) -> list[Suppression]:
    rows = db.execute(
        "SELECT email, reason, source, detail, created_at FROM suppressions ORDER BY created_at, email"
    ).fetchall()
    return [Suppression(*row) for row in rows]


def to_csv(items: Iterable[Suppression]) -> bytes:
    """Through the CSV export gate: a bounce's detail never reaches a spreadsheet as a formula."""
    return cells.csv_bytes(CSV_COLUMNS, ([i.email, i.reason, i.source, i.detail, i.created_at] for i in items))


def export_csv(db: Connection, path: Path) -> int:
    items = entries(db)
    try:
        write_atomic(path, to_csv(items))
    except OSError as exc:
        raise StorageError(f"{path}: cannot write: {exc.strerror}") from exc
    return len(items)


def _timestamp(value: str, at: str) -> str:
    if not value:
        return now("seconds")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{at}: created_at {value!r} is not an ISO date or time") from None
    return parsed.isoformat()


def read_csv(path: Path) -> list[Suppression]:
    """Parse and validate a whole suppression CSV before anything is written."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if "email" not in fields:
            columns = ", ".join(shown(f, 30) for f in fields[:12]) or "nothing"
            raise InputError(
                f"{path}:1: no 'email' column in the header; found: {columns}"
                f" (expected at least email; also read: {', '.join(CSV_COLUMNS[1:])})"
            )
        cells.repeated_column(path, fields, CSV_COLUMNS)
        reader.fieldnames = fields
        found: list[Suppression] = []
        for record in reader:
            found.append(_row(record, f"{path}:{reader.line_num}"))
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: unreadable CSV: {exc}") from exc
    return found


def _row(record: Mapping[str, str | None], at: str) -> Suppression:
    values = {k: cells.restore((v or "").strip()) for k, v in record.items() if isinstance(k, str)}
    try:
        email = check_address(values.get("email", ""))
    except ValueError as exc:
        raise InputError(f"{at}: email {values.get('email', '')!r}: {exc}") from exc
    reason = values.get("reason") or "manual"
    if reason not in REASONS:
        raise InputError(f"{at}: reason {reason!r} is not one of {', '.join(REASONS)}")
    return Suppression(
        email.lower(),
        reason,
        values.get("source") or "import",
        values.get("detail", ""),
        _timestamp(values.get("created_at", ""), at),
    )


def import_csv(db: Connection, path: Path, items: list[Suppression] | None = None) -> tuple[int, int]:
    """Add every row of a suppression CSV in one transaction: (added, already there).
    `items` are the rows `read_csv` already validated, if the caller has them."""
    items = read_csv(path) if items is None else items
    added = 0
    with transaction(db):
        for item in items:
            added += add(
                db, item.email, item.reason, item.source or f"import {path.name}", item.detail, item.created_at
            )
    return added, len(items) - added
