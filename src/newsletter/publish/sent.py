"""Which issues count as sent, from the project's journal: the archive publishes only those."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsletter.errors import InputError


def sent_issues(journal_path: Path) -> dict[str, str]:
    """Issue slug -> the first time one of its deliveries was recorded as sent (ISO 8601, UTC).

    Test sends (`--to`) are recorded only as runs, never as deliveries, so they do not count.
    The journal is opened read-only: building the archive never creates or changes it.
    """
    if not journal_path.is_file():
        return {}
    try:
        db = sqlite3.connect(journal_path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"{journal_path}: cannot open the journal: {exc}") from exc
    try:
        rows = db.execute(
            "SELECT issue, min(updated_at) FROM deliveries WHERE state = 'sent' GROUP BY issue ORDER BY issue"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return {}
        raise InputError(f"{journal_path}: cannot read the journal: {exc}") from exc
    finally:
        db.close()
    return {str(issue): str(first) for issue, first in rows}
