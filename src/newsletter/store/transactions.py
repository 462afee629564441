"""The store's lowest layer: its error, its clock and its transactions, which every table module uses.

Kept apart from `database` (which opens and migrates the file) so that `migrations` can use a
transaction without importing the module that calls it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from newsletter.errors import NewsletterError


class StorageError(NewsletterError):
    """The database cannot be opened or written (a failure while working: exit 1)."""


def now(timespec: str = "milliseconds") -> str:
    """The one clock of the database: UTC, ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec=timespec)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error: takes the write lock up front, so a
    second writer waits for the busy timeout instead of failing halfway through."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
