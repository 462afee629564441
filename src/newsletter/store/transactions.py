"""The store's clock and its transactions, which every table module uses.

A write is `with transaction(db): ...`: on SQLite `BEGIN IMMEDIATE` takes the file's write lock up
front, so a second writer waits for the busy timeout instead of failing halfway through. On
PostgreSQL the same guarantee is a transaction-scoped advisory lock taken first: writers of the
list of record queue one behind another exactly as on SQLite, so code that reads and then writes
inside one transaction is correct on both without per-statement retries. The send's claims are
the exception (`shared=True`): they lock only their own rows (`FOR UPDATE SKIP LOCKED`), so many
workers claim at once.

A transaction opened while one is already open on the connection joins it: the outer one's
commit or rollback covers both. That is how an action and its audit entry (`newsletter.audit`)
commit together although the action's own module opens its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from newsletter.store.connection import SQLITE, Connection
from newsletter.store.errors import StorageError

__all__ = ["StorageError", "now", "transaction"]

WRITE_LOCK = 0x6E6C7772  # "nlwr": the advisory lock every PostgreSQL writer takes first


def now(timespec: str = "milliseconds") -> str:
    """The one clock of the database: UTC, ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec=timespec)


@contextmanager
def transaction(db: Connection, *, shared: bool = False) -> Iterator[Connection]:
    """BEGIN ... COMMIT, rolled back on any error (see the module's docstring for the lock and
    for a transaction inside one)."""
    if db.in_transaction:
        yield db
        return
    if db.backend == SQLITE:
        db.execute("BEGIN IMMEDIATE")
    else:
        db.execute("BEGIN")
        if not shared:
            try:
                db.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
    db.in_transaction = True
    try:
        yield db
    except BaseException:
        db.in_transaction = False
        # A connection that died with its transaction cannot roll back: the first error is the one to report.
        with suppress(Exception):
            db.execute("ROLLBACK")
        raise
    db.in_transaction = False
    db.execute("COMMIT")
