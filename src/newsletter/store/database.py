"""The project database: one SQLite file, opened the same way by every command.

WAL lets the web server write (signups, unsubscribes) while a send reads; `synchronous=FULL`
makes every commit durable before a page answers. The schema is migrated forward when the
file is opened (see `migrations.py`), so a journal made by an older release just works.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


class Store:
    """An open database: `db` is the connection (autocommit; write through `transaction`)."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self.db = db

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(path: Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database file; returns the raw connection."""
    from newsletter.store.migrations import migrate

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"{path}: cannot open the database: {exc}") from exc
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db)
    except sqlite3.Error as exc:
        db.close()
        raise StorageError(f"{path}: cannot open the database: {exc}") from exc
    return db


def open_store(path: Path) -> Store:
    """Open the project database at `path`, migrating it forward in one transaction."""
    return Store(path, connect(path))
