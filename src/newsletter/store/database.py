"""The project database, opened the same way by every command: a SQLite file (the default) or a
PostgreSQL server (`NEWSLETTER_DATABASE=postgresql://...`).

Opening checks the schema once per process (`schema.ensure`): a new database is created at the
newest revision, an older one is refused until `newsletter db upgrade`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from newsletter.store import schema
from newsletter.store.connection import (
    Connection,
    DatabaseError,
    Location,
    is_transient,
    is_url,
    open_connection,
    reason,
    shown,
)
from newsletter.store.errors import SchemaError, StorageError
from newsletter.store.transactions import now, transaction

T = TypeVar("T")

__all__ = [
    "Connection",
    "Location",
    "SchemaError",
    "StorageError",
    "Store",
    "connect",
    "connect_waiting",
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


def connect_waiting(location: Location, patience: float) -> Connection:
    """`connect`, waiting out a database server that restarts: a transient failure to open it
    (refused, or "not yet accepting connections" while it recovers) is tried again every half
    second for up to `patience` seconds; any other failure, or one that outlasts the patience,
    is the StorageError `connect` raises. For the processes that join a send already running
    (a worker started by `send --workers`, `newsletter worker` on another host): a restart just
    as one starts must not stop it, when the send's other processes wait the same restart out."""
    return _waiting(patience, lambda: connect(location))


def _waiting(patience: float, attempt: Callable[[], T]) -> T:
    deadline = time.monotonic() + patience
    while True:
        try:
            return attempt()
        except StorageError as exc:
            cause = exc.__cause__
            if cause is None or not is_transient(cause) or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def open_store(location: Location) -> Store:
    """Open the project database at `location` (a file path or a postgresql:// URL)."""
    return Store(location, connect(location))


def exists(location: Location, patience: float = 0.0) -> bool:
    """True when there is a database to read: the file exists, or the server's database has our
    tables. Read-only commands ask first, so a dry run never creates a database to find it empty.
    A server that cannot be reached counts as no database, after waiting up to `patience` seconds
    for one that is restarting (`connect_waiting`)."""
    if not is_url(location):
        return Path(location).exists()

    def tables() -> bool:
        with open_connection(location) as db:
            return not schema.version(db).empty

    try:
        return _waiting(patience, tables)
    except StorageError:
        return False
