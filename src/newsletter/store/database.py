"""The project database: one SQLite file, opened the same way by every command.

WAL lets the web server write (signups, unsubscribes) while a send reads; `synchronous=FULL`
makes every commit durable before a page answers. The schema is migrated forward when the
file is opened (see `migrations.py`), so a journal made by an older release just works.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsletter.store.migrations import migrate
from newsletter.store.transactions import StorageError, now, transaction

__all__ = ["StorageError", "Store", "connect", "now", "open_store", "transaction"]


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
