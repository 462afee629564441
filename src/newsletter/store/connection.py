"""One connection to the list of record, on SQLite (a file, the default) or PostgreSQL (a server).

Everything above the store talks to a `Connection`, never to a driver. The table modules write
plain SQL with `?` placeholders in the dialect both backends share (`ON CONFLICT`, `RETURNING`,
no `INSERT OR ...`, no PRAGMA outside this file), and `execute` hands it to the driver in its own
parameter style through SQLAlchemy Core (`exec_driver_sql`): the engine, its pool, the dialects
and the error classes are SQLAlchemy's, the SQL is ours. Why text and not Core expressions:
docs/benchmarks.md ("the store on SQLAlchemy") measured the cost of each per statement.

Connections run in autocommit; a write is an explicit transaction (`transactions.transaction`),
so that SQLite's `BEGIN IMMEDIATE` (take the write lock up front) stays the model on both.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, CursorResult, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from newsletter.settings import is_database_url
from newsletter.store.errors import StorageError

SQLITE, POSTGRESQL = "sqlite", "postgresql"
DatabaseError = DBAPIError  # what a failed statement raises, on either backend

Params = Sequence[Any]
Location = Path | str  # a SQLite file, or a postgresql:// URL


def is_url(location: Location) -> bool:
    return isinstance(location, str) and is_database_url(location)


def shown(location: Location) -> str:
    """The location for a message: a URL without its password."""
    if is_url(location):
        return _url(str(location)).render_as_string(hide_password=True)
    return str(location)


def _url(location: str) -> URL:
    try:
        url = make_url(location)
    except ArgumentError as exc:
        raise StorageError(f"NEWSLETTER_DATABASE: not a database URL: {exc}") from None
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg")
    raise StorageError(f"NEWSLETTER_DATABASE: {url.drivername}: only postgresql:// URLs or a file path are supported")


@functools.lru_cache(maxsize=512)
def _for_postgresql(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`, and a literal `%` doubled (outside quoted strings,
    where a `?` is text, not a placeholder)."""
    out: list[str] = []
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "%":
            out.append("%%")
        elif char == "?" and not quoted:
            out.append("%s")
        else:
            out.append(char)
    return "".join(out)


class Result:
    """What a statement returns, typed as loosely as the DB-API's own cursor: rows are tuples
    (SQLAlchemy `Row`s), read by position."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: CursorResult[Any]) -> None:
        self._cursor = cursor

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def scalar_one(self) -> Any:
        return self._cursor.scalar_one()

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def columns(self) -> list[str]:
        """The column names (not `keys`: `dict(result)` must read rows, not a mapping)."""
        return list(self._cursor.keys())


MANY_ROWS = 5_000  # rows a driver call of `executemany` takes inside a transaction


class ConnectionLost(Exception):
    """The driver-level cause of a statement refused because its connection died earlier."""


class Connection:
    """An open connection (autocommit): `execute` one statement, `executemany` one statement for
    many rows; write through `transaction(db)`. `backend` is "sqlite" or "postgresql"."""

    def __init__(self, engine: Engine, location: Location) -> None:
        self.location = location
        self.backend = engine.dialect.name
        self.where = shown(location)
        self._sa = engine.connect()
        self.in_transaction = False

    def execute(self, sql: str, params: Params = ()) -> Result:
        self._revive(sql)
        if self.backend != SQLITE:
            sql = _for_postgresql(sql)
        return Result(self._sa.exec_driver_sql(sql, tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """One statement for many rows. Inside a transaction the rows go to the driver
        `MANY_ROWS` at a time, so a send's plan of a million recipients is never a million
        tuples in memory at once (it was about 160 MB); outside one they go in one call, so
        they stay all or nothing."""
        if self.backend != SQLITE:
            sql = _for_postgresql(sql)
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(row))
            if self.in_transaction and len(batch) >= MANY_ROWS:
                self._many(sql, batch)
                batch = []
        if batch:
            self._many(sql, batch)

    def _many(self, sql: str, batch: list[tuple[Any, ...]]) -> None:
        self._revive(sql)
        self._sa.exec_driver_sql(sql, batch)

    def _revive(self, sql: str) -> None:
        """A connection whose server went away (a restart, a failover) failed one statement with a
        transient error; without this, SQLAlchemy would refuse every later one with an error no
        caller catches. Outside a transaction the next statement runs on a new connection to the
        server; inside one it fails as transient too, so the transaction's caller starts it
        again from BEGIN, never halfway through on a connection that never saw it begin."""
        if not self._sa.invalidated:
            return
        if self.in_transaction:
            lost = ConnectionLost(f"{self.where}: the connection to the database was lost mid-transaction")
            raise OperationalError(sql, None, lost, connection_invalidated=True)
        self._sa.rollback()  # forgets the dead connection; the next statement opens a new one

    @property
    def sa(self) -> sqlalchemy.Connection:
        """The SQLAlchemy connection (for Alembic, and the store's copy and backup)."""
        return self._sa

    def close(self) -> None:
        self._sa.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_engines: dict[tuple[str, bool, str], Engine] = {}
_engines_lock = threading.Lock()


def engine(location: Location, *, pooled: bool = False, synchronous: str = "FULL") -> Engine:
    """The process's engine for `location` (one per location). Unpooled by default: a command
    opens a connection or two and closes them, and an idle pooled connection would hold a
    deleted test database open; `serve` asks for a pool (`pooled=True`)."""
    key = (str(location), pooled, synchronous)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _make_engine(location, pooled, synchronous)
        return _engines[key]


def _make_engine(location: Location, pooled: bool, synchronous: str) -> Engine:
    extra: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if is_url(location):
        url = _url(str(location))
        return sqlalchemy.create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            # lock_timeout: a writer waits for the write lock as long as SQLite's busy timeout
            # (30 s), then fails as "try again" (55P03) instead of waiting for ever.
            connect_args={"connect_timeout": 10, "application_name": "newsletter", "options": "-c lock_timeout=30s"},
            pool_pre_ping=pooled,
            **extra,
        )
    path = Path(location)
    made = sqlalchemy.create_engine(
        URL.create("sqlite", database=str(path)),
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": 30, "check_same_thread": False},
        **extra,
    )

    @event.listens_for(made, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:
        # WAL lets the web server write while a send reads; synchronous=FULL makes every commit
        # durable before a page answers or the next message goes out.
        cursor = dbapi.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return made


def open_connection(location: Location, *, pooled: bool = False, synchronous: str = "FULL") -> Connection:
    """A new connection, or StorageError naming the database and why (one line)."""
    if not is_url(location):
        try:
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"{location}: cannot open the database: {exc.strerror}") from exc
    try:
        return Connection(engine(location, pooled=pooled, synchronous=synchronous), location)
    except DBAPIError as exc:
        raise StorageError(f"{shown(location)}: cannot open the database: {reason(exc)}") from exc


def reason(exc: BaseException) -> str:
    """The driver's own words for a failure, on one line, without SQLAlchemy's SQL echo."""
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:300]


# SQLite: busy, locked, a disk error or a full disk, a file it cannot open. PostgreSQL: the server
# is going or gone, too many clients, a serialization failure or deadlock, a lock not granted in
# time. A moment later the same request can succeed.
_RETRY_SQLITE = {5, 6, 10, 13, 14}  # busy, locked, I/O error, full, cannot open
_RETRY_PG_CLASSES = ("08", "57P", "53300", "40001", "40P01", "55P03")
# A failure to connect carries no SQLSTATE (psycopg gives the server's FATAL as text): these say
# that no wait will help (a wrong database name, user or password), unlike "connection refused"
# or "not yet accepting connections" from a server that restarts.
_NEVER_CONNECTS = (
    "does not exist",
    "authentication failed",
    "pg_hba.conf",
    "no password supplied",
    "permission denied",
)


def is_transient(exc: BaseException) -> bool:
    """True for a failure that a retry a moment later can outlive (a busy file, a database
    restarting), as opposed to a broken statement or a full disk."""
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _RETRY_SQLITE
    state = getattr(original, "sqlstate", None) or ""
    if state:
        return state.startswith(_RETRY_PG_CLASSES)
    # No SQLSTATE: the server never answered (connection refused while it restarts, or closed
    # under a statement): the driver's OperationalError, or a connection SQLAlchemy gave up on;
    # unless its words say it refused us for good.
    if any(words in str(original if original is not None else exc) for words in _NEVER_CONNECTS):
        return False
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))
