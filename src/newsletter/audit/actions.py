"""Staff actions on the list of record, each with its audit entry in the same transaction.

The store's own functions (`store.privacy.erase`, `store.edits.edit`, ...) open their
transaction; inside ours it joins (`store.transactions.transaction`), so the change and its
entry commit together or neither does. An address is never written to the log: only its keyed
hash (`store.suppressions.email_hash`, the one erasure keeps), so erasing a person later leaves
nothing of theirs in entries the chain forbids rewriting. Field values of an edit (a name, a
ward) stay out for the same reason; the log names the fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from newsletter.audit.identity import Staff
from newsletter.audit.log import record
from newsletter.store import edits, privacy, suppressions
from newsletter.store import subscribers as subs
from newsletter.store.connection import Connection
from newsletter.store.consent import Evidence
from newsletter.store.database import transaction

__all__ = [
    "edit_logger",
    "erase",
    "export",
    "file_facts",
    "import_suppressions",
    "lift_suppression",
    "suppress",
    "unsubscribe",
]


def address_hash(db: Connection, email: str) -> str:
    """The keyed hash the log names a person by (never the address)."""
    return suppressions.email_hash(db, email.strip().lower())


def file_facts(path: Path) -> dict[str, object]:
    """A file as the log names it: its name and the SHA-256 of its bytes (what exactly came in or
    went out). A folder (a Maildir) is the SHA-256 of a line per file under it, in name order: its
    path inside the folder and the SHA-256 of its bytes, so a message added, removed or changed shows."""
    if not path.is_dir():
        return {"file": path.name, "sha256": _sha256(path)}
    digest = hashlib.sha256()
    for inner in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{inner.relative_to(path).as_posix()}\0{_sha256(inner)}\n".encode("utf-8", "surrogateescape"))
    return {"file": path.name, "sha256": digest.hexdigest()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def erase(db: Connection, email: str, staff: Staff) -> privacy.Erasure:
    """`store.privacy.erase`, logged with the keyed hash and the counts."""
    with transaction(db):
        done = privacy.erase(db, email)
        record(
            db,
            "erase",
            staff=staff,
            details={
                "address_hash": address_hash(db, email),
                "records": done.total,
                "subscriber": done.subscriber,
                "consent_events": done.consent_events,
                "deliveries": done.deliveries,
                "suppressions": done.suppressions,
                "bounces": done.bounces,
                "test_sends": done.test_sends,
            },
        )
    privacy.scrub(db)
    return done


def edit_logger(staff: Staff) -> edits.Logger:
    """What `store.edits.edit` calls inside its transaction when it changed something: the edit
    entry, by field names (the values stay in the consent log, which erasure removes)."""

    def logged(db: Connection, email: str, changed: dict[str, tuple[str, str]]) -> None:
        record(db, "edit", staff=staff, details={"address_hash": address_hash(db, email), "fields": sorted(changed)})

    return logged


def unsubscribe(db: Connection, emails: Iterable[str], evidence: Evidence, staff: Staff) -> list[bool]:
    """Staff unsubscribe addresses by hand (all or none): one suppression.add entry for each new one."""
    added = []
    with transaction(db):
        for email in emails:
            new = subs.record_unsubscribe(db, email, evidence)
            added.append(new)
            if new:
                suppress(db, email, "unsubscribed", staff)
    return added


def suppress(db: Connection, email: str, reason: str, staff: Staff, **details: object) -> None:
    """The suppression.add entry of one address (inside the caller's transaction)."""
    record(
        db,
        "suppression.add",
        staff=staff,
        details={"address_hash": address_hash(db, email), "reason": reason, **details},
    )


def lift_suppression(db: Connection, email: str, staff: Staff) -> suppressions.Suppression | None:
    """`store.suppressions.remove`, logged."""
    with transaction(db):
        removed = suppressions.remove(db, email)
        if removed is not None:
            record(
                db,
                "suppression.remove",
                staff=staff,
                details={"address_hash": address_hash(db, email), "reason": removed.reason},
            )
    return removed


def import_suppressions(
    db: Connection, path: Path, items: list[suppressions.Suppression], staff: Staff
) -> tuple[int, int]:
    """`store.suppressions.import_csv`, logged as one suppression.add entry for the file."""
    with transaction(db):
        added, existing = suppressions.import_csv(db, path, items)
        record(db, "suppression.add", staff=staff, details={**file_facts(path), "added": added, "already": existing})
    return added, existing


def export(db: Connection, what: str, path: Path | None, count: int, staff: Staff, **details: object) -> None:
    """An export of personal data that left the database (written already, or shown when `path`
    is None): what, where, how many."""
    facts = file_facts(path) if path is not None else {"file": None}
    with transaction(db):
        record(db, "export", staff=staff, details={"what": what, **facts, "rows": count, **details})
