"""The project database, opened the same way by every command: a SQLite file (the default) or a
PostgreSQL server (`NEWSLETTER_DATABASE=postgresql://...`).

Opening checks the schema once per process (`schema.ensure`): a new database is created at the
newest revision, an older one is refused until `newsletter db upgrade`.
"""

from __future__ import annotations

from pathlib import Path

from newsletter.store import schema
from newsletter.store.connection import Connection, DatabaseError, Location, is_url, open_connection, reason, shown
from newsletter.store.errors import SchemaError, StorageError
from newsletter.store.transactions import now, transaction

__all__ = [
    "Connection",
    "Location",
    "SchemaError",
    "StorageError",
    "Store",
    "connect",
    "exists",
    "now",
    "open_store",
    "transaction",
]


class Store:
    """An open database: `db` is the connection (autocommit; write through `transaction`)."""

    def __init__(self, location: Location, db: Connection) -> None:
        self.location = location
        self.db = db

    @property
    def path(self) -> Location:
        return self.location

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(location: Location, *, synchronous: str = "FULL", pooled: bool = False) -> Connection:
    """Open (creating if new) the database and check its schema; returns the connection."""
    db = open_connection(location, synchronous=synchronous, pooled=pooled)
    try:
        schema.ensure(db)
    except SchemaError:
        db.close()
        raise
    except DatabaseError as exc:
        db.close()
        raise StorageError(f"{shown(location)}: cannot open the database: {reason(exc)}") from exc
    return db


def open_store(location: Location) -> Store:
    """Open the project database at `location` (a file path or a postgresql:// URL)."""
    return Store(location, connect(location))


def exists(location: Location) -> bool:
    """True when there is a database to read: the file exists, or the server's database has our
    tables. Read-only commands ask first, so a dry run never creates a database to find it empty."""
    if not is_url(location):
        return Path(location).exists()
    try:
        with open_connection(location) as db:
            return not schema.version(db).empty
    except StorageError:
        return False
