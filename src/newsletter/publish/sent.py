"""Which issues count as sent, and what each send kept, from the project database: the archive
publishes only those, as they were sent."""

from __future__ import annotations

from pathlib import Path

from newsletter.store import open_store
from newsletter.store import snapshots as kept
from newsletter.store.journal import sent_issues as journal_sent_issues
from newsletter.store.snapshots import Snapshot


def sent_issues(database: Path) -> dict[str, str]:
    """Issue slug -> the first time one of its deliveries was recorded as sent (ISO 8601, UTC).

    Test sends (`--to`) are never journalled as deliveries, so they do not count. A project
    with no database yet has sent nothing: building the archive does not create one.
    """
    if not database.is_file():
        return {}
    with open_store(database) as store:
        return dict(journal_sent_issues(store.db))


def snapshots(database: Path) -> dict[str, Snapshot]:
    """Issue slug -> the web copy its first real send kept (none for sends by older releases;
    opening an older database adds the empty table)."""
    if not database.is_file():
        return {}
    with open_store(database) as store:
        return kept.every(store.db)
