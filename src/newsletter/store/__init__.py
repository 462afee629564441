"""The list of record: subscribers, consent events, suppressions, the delivery journal, send
locks, the archive's web copies and the web's client limits, in one database (a SQLite file by
default, or PostgreSQL) behind small modules (one per group of tables).

Callers open it with `open_store(project.database_path)` and write through `transaction(db)`;
nothing outside this package sees a driver's connection, only `Connection`. May import: the core
(`errors`, `fileio`, `gates`) only; the layers above call it. Schema changes are Alembic
revisions in `revisions/versions/` (`schema.py`). Read first: `connection`, then `database`.
"""

from newsletter.store.connection import Connection, DatabaseError, Location
from newsletter.store.database import (
    SchemaError,
    StorageError,
    Store,
    connect,
    connect_waiting,
    exists,
    now,
    open_store,
    transaction,
)

__all__ = [
    "Connection",
    "DatabaseError",
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
