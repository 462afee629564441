"""The audit log's rows: append one (`record`), read them (`entries`), check the chain (`verify`).

Each entry's hash is SHA-256 over a canonical JSON of its own fields (as stored, `details`
included as its canonical JSON text) and the hash of the entry before it. Editing any field of
any entry changes its hash; deleting one leaves a gap in the ids and a `prev_hash` that points
at nothing; deleting the last one leaves the head kept in `meta` pointing past the end. Someone
with write access to the database can still rebuild the whole chain: the log shows tampering,
it does not prevent it (a copy exported elsewhere is the answer to that, `log --export`).

`record` runs inside the caller's write transaction (`store.transactions.transaction`), which
serialises writers on both backends (SQLite's write lock, PostgreSQL's advisory lock): two hosts
appending at once queue, and the second chains onto the first. `prev_hash` is unique in the
table as well, so a fork is impossible even for a writer that skipped the lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from newsletter.audit.identity import Staff
from newsletter.store.connection import SQLITE, Connection
from newsletter.store.transactions import WRITE_LOCK, now

__all__ = ["FIELDS", "GENESIS", "Broken", "Entry", "canonical", "entries", "entry_hash", "record", "rows", "verify"]

GENESIS = "0" * 64  # the prev_hash of the first entry
HEAD_KEY = "audit_head"  # meta: "<id> <hash>" of the newest entry, so a deleted last entry shows
ACTION = re.compile(r"^[a-z]+(?:[._][a-z]+)*$")
FIELDS = ("id", "at", "staff", "source", "host", "action", "issue", "details", "prev_hash", "hash")
COLUMNS = ", ".join(FIELDS)


def canonical(value: object) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class Entry:
    """One action in the log. `details` is what the action recorded (never an address)."""

    id: int
    at: dt.datetime
    staff: str
    source: str
    host: str
    action: str
    issue: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(row: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the stored fields of one entry, its prev_hash among them."""
    fields = {name: row[name] for name in ("id", "at", "staff", "source", "host", "action", "issue", "details")}
    fields["prev_hash"] = row["prev_hash"]
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def record(
    db: Connection,
    action: str,
    *,
    staff: Staff,
    issue: str | None = None,
    details: Mapping[str, object] | None = None,
) -> Entry:
    """Append one entry, chained to the last, inside the caller's open write transaction (so the
    action and its entry commit together, or neither does)."""
    if not db.in_transaction:
        raise RuntimeError("audit.record must run inside the action's write transaction")
    if not ACTION.match(action):
        raise ValueError(f"audit action {action!r}: lower-case words joined by dots")
    if db.backend != SQLITE:  # the writers' lock even inside a shared transaction (taking it twice is harmless)
        db.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
    last = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    row: dict[str, Any] = {
        "id": int(last[0]) + 1 if last else 1,
        "at": now(),
        "staff": staff.name,
        "source": staff.source,
        "host": staff.host,
        "action": action,
        "issue": issue,
        "details": canonical(dict(details or {})),
        "prev_hash": str(last[1]) if last else GENESIS,
    }
    row["hash"] = entry_hash(row)
    db.execute(
        f"INSERT INTO audit_log ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [row[name] for name in FIELDS],
    )
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (HEAD_KEY, f"{row['id']} {row['hash']}"),
    )
    return _entry(row)


def _entry(row: Mapping[str, Any]) -> Entry:
    try:
        details = json.loads(row["details"])
    except ValueError:
        details = {"unreadable": str(row["details"])}
    return Entry(
        id=int(row["id"]),
        at=dt.datetime.fromisoformat(str(row["at"])),
        staff=str(row["staff"]),
        source=str(row["source"]),
        host=str(row["host"]),
        action=str(row["action"]),
        issue=row["issue"],
        details=details if isinstance(details, dict) else {"value": details},
        prev_hash=str(row["prev_hash"]),
        hash=str(row["hash"]),
    )


def _rows(db: Connection, where: str = "", params: tuple[object, ...] = ()) -> Iterator[dict[str, Any]]:
    for row in db.execute(f"SELECT {COLUMNS} FROM audit_log {where} ORDER BY id", params):
        yield dict(zip(FIELDS, row, strict=True))


def entries(
    db: Connection, *, since: dt.datetime | None = None, issue: str | None = None, action: str | None = None
) -> list[Entry]:
    """The entries, oldest first; `since` (inclusive) compares in UTC."""
    return [_entry(row) for row in rows(db, since=since, issue=issue, action=action)]


def rows(
    db: Connection, *, since: dt.datetime | None = None, issue: str | None = None, action: str | None = None
) -> list[dict[str, Any]]:
    """`entries` as stored (text fields, `details` its JSON text): what an export writes."""
    clauses: list[str] = []
    params: list[object] = []
    if since is not None:
        moment = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        clauses.append("at >= ?")
        params.append(moment.astimezone(dt.UTC).isoformat(timespec="milliseconds"))
    if issue is not None:
        clauses.append("issue = ?")
        params.append(issue)
    if action is not None:
        clauses.append("action = ?")
        params.append(action)
    where = "WHERE " + " AND ".join(clauses) if clauses else ""
    return list(_rows(db, where, tuple(params)))


@dataclass(frozen=True)
class Broken:
    """The first place the chain does not hold: the entry's id and what is wrong there."""

    id: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.id}: {self.problem}"


def verify(db: Connection) -> tuple[int, Broken | None]:
    """Walk the chain from the first entry: how many entries were checked, and the first broken
    one (None when every entry is intact and none is missing)."""
    expected_id, previous = 1, GENESIS
    count = 0
    for row in _rows(db):
        count += 1
        found = int(row["id"])
        if found < expected_id:
            return count, Broken(found, f"edited: its number was changed (entry {expected_id} expected here)")
        if found != expected_id:
            missing = f"entry {expected_id}" if found == expected_id + 1 else f"entries {expected_id} to {found - 1}"
            return count, Broken(found, f"deleted: {missing} missing before it (a gap in the ids)")
        if row["prev_hash"] != previous:
            return count, Broken(
                found, "deleted or rewritten before it: its prev_hash does not match the hash of the entry before"
            )
        if entry_hash(row) != row["hash"]:
            return count, Broken(found, "edited: its fields no longer match its hash")
        expected_id, previous = found + 1, str(row["hash"])
    head = db.execute("SELECT value FROM meta WHERE key = ?", (HEAD_KEY,)).fetchone()
    if head is not None and head[0] != f"{expected_id - 1} {previous}":
        head_id = str(head[0]).split(" ")[0]
        return count, Broken(
            int(head_id) if head_id.isdigit() else expected_id,
            f"deleted: the log ends at entry {expected_id - 1} but its newest entry was {head_id}",
        )
    return count, None
