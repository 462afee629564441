"""Which issues count as sent, and what each send kept, from the project database: the archive
publishes only those, as they were sent."""

from __future__ import annotations

from newsletter.store import Location, exists, open_store
from newsletter.store import snapshots as kept
from newsletter.store.journal import sent_issues as journal_sent_issues
from newsletter.store.snapshots import Snapshot


def sent_issues(database: Location) -> dict[str, str]:
    """Issue slug -> the first time one of its deliveries was recorded as sent (ISO 8601, UTC).

    Test sends (`--to`) are never journalled as deliveries, so they do not count. A project
    with no database yet has sent nothing: building the archive does not create one.
    """
    if not exists(database):
        return {}
    with open_store(database) as store:
        return dict(journal_sent_issues(store.db))


def snapshots(database: Location) -> dict[str, Snapshot]:
    """Issue slug -> the web copy its first real send kept (none for sends by older releases;
    those read as none)."""
    if not exists(database):
        return {}
    with open_store(database) as store:
        return kept.every(store.db)
