"""What each issue's send sent: the web copy kept at the start of its first real send.

The archive of record shows these, not a re-render of today's articles, templates and settings
(which staff may have edited since). The first real send of an issue writes its snapshot; a
later run of the same issue never overwrites it (most recipients got the first version), it
only compares hashes so the send can warn that recipients are getting two versions.
The web copy carries no reader's name, address or token: nothing here is personal data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from newsletter.store.connection import Connection, DatabaseError
from newsletter.store.database import StorageError, transaction


@dataclass(frozen=True)
class SnapshotEdition:
    """A ward edition's web copy: its archive file stem (`<issue>.<key>`) and who it is for."""

    stem: str
    label: str
    html: str
    text: str


@dataclass(frozen=True)
class Snapshot:
    """An issue as it was sent: subject, date, the web copy (HTML and plain text) of the edition
    for everyone, and each ward edition's. `taken_at` is empty until it is stored."""

    issue: str
    subject: str
    preheader: str
    issue_date: str  # YYYY-MM-DD
    date_text: str
    html: str
    text: str
    editions: tuple[SnapshotEdition, ...] = ()
    taken_at: str = ""

    @property
    def content_hash(self) -> str:
        """SHA-256 of everything a reader sees (not of when it was taken)."""
        parts = [
            self.subject,
            self.preheader,
            self.issue_date,
            self.date_text,
            self.html,
            self.text,
            [[e.stem, e.label, e.html, e.text] for e in self.editions],
        ]
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


_INSERT = """INSERT INTO issue_snapshots
  (issue, subject, preheader, issue_date, date_text, html, text, content_hash, taken_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue) DO NOTHING"""
_SELECT = "SELECT issue, subject, preheader, issue_date, date_text, html, text, taken_at FROM issue_snapshots"


def keep(db: Connection, snapshot: Snapshot, taken_at: str, *, replace: bool = False) -> tuple[Snapshot, bool]:
    """Store `snapshot` unless the issue already has one (`replace`: the earlier one reached
    nobody); returns (the stored snapshot, whether it was written now). One transaction: two
    sends racing keep exactly one."""
    try:
        with transaction(db):
            if replace:
                db.execute("DELETE FROM issue_snapshots WHERE issue = ?", (snapshot.issue,))
            cursor = db.execute(
                _INSERT,
                (
                    snapshot.issue,
                    snapshot.subject,
                    snapshot.preheader,
                    snapshot.issue_date,
                    snapshot.date_text,
                    snapshot.html,
                    snapshot.text,
                    snapshot.content_hash,
                    taken_at,
                ),
            )
            written = cursor.rowcount == 1
            if written:
                db.executemany(
                    "INSERT INTO issue_snapshot_editions (issue, position, stem, label, html, text) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(snapshot.issue, n, e.stem, e.label, e.html, e.text) for n, e in enumerate(snapshot.editions, 1)],
                )
    except DatabaseError as exc:
        raise StorageError(f"cannot keep the snapshot of {snapshot.issue}: {exc}") from exc
    stored = get(db, snapshot.issue)
    assert stored is not None  # written above, or already there
    return stored, written


def get(db: Connection, issue: str) -> Snapshot | None:
    """The snapshot of one issue, or None when it was sent by a release that kept none."""
    found = every(db, issue)
    return found.get(issue)


def taken(db: Connection, issue: str) -> tuple[str, str] | None:
    """(when it was taken, its content hash) without reading the pages, for `newsletter status`."""
    row = db.execute("SELECT taken_at, content_hash FROM issue_snapshots WHERE issue = ?", (issue,)).fetchone()
    return (row[0], row[1]) if row else None


def every(db: Connection, issue: str | None = None) -> dict[str, Snapshot]:
    """Issue slug -> its snapshot (all issues, or only `issue`), ward editions in issue order."""
    where, args = (" WHERE issue = ?", (issue,)) if issue is not None else ("", ())
    editions: dict[str, list[SnapshotEdition]] = {}
    for slug, stem, label, html, text in db.execute(
        "SELECT issue, stem, label, html, text FROM issue_snapshot_editions" + where + " ORDER BY issue, position", args
    ):
        editions.setdefault(slug, []).append(SnapshotEdition(stem, label, html, text))
    return {
        slug: Snapshot(slug, subject, preheader, day, day_text, html, text, tuple(editions.get(slug, ())), at)
        for slug, subject, preheader, day, day_text, html, text, at in db.execute(
            _SELECT + where + " ORDER BY issue", args
        )
    }
