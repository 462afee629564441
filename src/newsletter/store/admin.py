"""`newsletter db`: the database as a whole — where it stands, its upgrade, a backup, and a copy
into another database (an office moving its SQLite file to PostgreSQL, or restoring a backup).

A backup is always a SQLite file: SQLite's own online backup for a SQLite database, and a table by
table copy for PostgreSQL, so the tool can restore either (`db copy --from BACKUP --to URL`)
without `pg_dump` on the office's machines. A copy refuses a target that holds anything, creates
the schema there at the newest revision, copies every table (consent history, keys, journal) in
one transaction, then proves it by row counts and an order-independent checksum of every row on
both sides: a copy that does not verify is rolled back, never left half-made.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy

from newsletter.store import schema
from newsletter.store.connection import (
    SQLITE,
    Connection,
    DatabaseError,
    Location,
    is_url,
    open_connection,
    reason,
    shown,
)
from newsletter.store.errors import SchemaError, StorageError
from newsletter.store.transactions import transaction

BATCH = 5_000
SKIP = {"alembic_version"}  # the target gets its own, at the same revision


@dataclass(frozen=True)
class Status:
    """What `newsletter db status` prints."""

    backend: str
    where: str
    revision: str | None
    head: str
    counts: dict[str, int]

    @property
    def current(self) -> bool:
        return self.revision == self.head


def tables(db: Connection) -> list[str]:
    """Every table of the list of record, parents before children (foreign keys)."""
    names = [name for name, _ in sqlalchemy.inspect(db.sa).get_sorted_table_and_fkc_names() if name]
    return [name for name in names if name not in SKIP]


def status(location: Location) -> Status | None:
    """Backend, revision and row counts; None when there is no database there yet (nothing is
    created to find that out)."""
    if not _present(location):
        return None
    with _opened(location) as db:
        found = schema.version(db)
        if found.empty:
            return None
        counts = {name: int(db.execute(f"SELECT count(*) FROM {name}").scalar_one()) for name in tables(db)}
        return Status(db.backend, db.where, found.revision, schema.head(), counts)


def upgrade(location: Location) -> tuple[str | None, str]:
    """Bring the database to the newest revision (creating it if new): (from, to)."""
    with _opened(location) as db:
        try:
            return schema.upgrade(db)
        except DatabaseError as exc:
            raise StorageError(f"{db.where}: the upgrade failed and was rolled back: {reason(exc)}") from exc


@dataclass(frozen=True)
class Copied:
    counts: dict[str, int]
    checksum: str


def copy(source: Location, target: Location) -> Copied:
    """Copy every table of `source` into the empty database `target`, verified (see above)."""
    if not _present(source):
        raise SchemaError(f"{shown(source)}: there is no database here to copy")
    with _opened(source) as src:
        _check_source(src)
        with _opened(target) as dst:
            return _copy_into(src, dst)


def _copy_into(src: Connection, dst: Connection) -> Copied:
    if not schema.version(dst).empty:
        raise SchemaError(
            f"{dst.where}: the target database is not empty; refusing to copy into it",
            hint="copy into a new, empty database (createdb NAME), or drop this one first",
        )
    try:
        return _copy(src, dst)
    except DatabaseError as exc:
        raise StorageError(f"{dst.where}: the copy failed and was rolled back: {reason(exc)}") from exc


def _copy(src: Connection, dst: Connection) -> Copied:
    schema.upgrade(dst)
    names = tables(src)
    with transaction(dst):
        dst.execute("DELETE FROM meta")  # the source's keys: erased people's hashes depend on them
        for name in names:
            columns = src.execute(f"SELECT * FROM {name} LIMIT 0").columns()
            insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for batch in _batches(src, f"SELECT {', '.join(columns)} FROM {name}"):
                dst.executemany(insert, batch)
            if dst.backend != SQLITE and "id" in columns:
                sequence = f"pg_get_serial_sequence('{name}', 'id')"  # identities go on after the copied ids
                dst.execute(f"SELECT setval({sequence}, coalesce(max(id), 0) + 1, false) FROM {name}")
        source_sums = {name: _fingerprint(src, name) for name in names}
        target_sums = {name: _fingerprint(dst, name) for name in names}
        for name in names:
            if source_sums[name] != target_sums[name]:
                raise StorageError(
                    f"{dst.where}: table {name} does not match after copying "
                    f"({source_sums[name][0]:,} rows there, {target_sums[name][0]:,} here); nothing was kept"
                )
    digest = hashlib.sha256("".join(f"{n}:{c}:{s}" for n, (c, s) in sorted(source_sums.items())).encode()).hexdigest()
    return Copied({name: count for name, (count, _) in source_sums.items()}, digest)


def backup(location: Location, file: Path) -> Copied:
    """Write a SQLite copy of the database to `file` (replaced only once complete)."""
    if file.exists():
        raise SchemaError(f"{file}: already exists; refusing to overwrite a backup", hint="name a new file")
    file.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        temporary.unlink()
        if not _present(location):
            raise SchemaError(f"{shown(location)}: there is no database here to back up")
        with _opened(location) as src:
            _check_source(src)
            if src.backend == SQLITE:
                done = _sqlite_backup(src, temporary)
            else:
                with _opened(temporary) as dst:
                    done = _copy(src, dst)
        os.replace(temporary, file)
        return done
    except DatabaseError as exc:
        raise StorageError(f"{file}: the backup failed: {reason(exc)}") from exc
    finally:
        for leftover in (temporary, *temporary.parent.glob(f"{temporary.name}-*")):
            with suppress(OSError):
                leftover.unlink()


def _sqlite_backup(src: Connection, file: Path) -> Copied:
    raw: Any = src.sa.connection.dbapi_connection
    target = sqlite3.connect(file)
    try:
        raw.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
    with _opened(file) as copied:
        sums = {name: _fingerprint(copied, name) for name in tables(copied)}
    digest = hashlib.sha256("".join(f"{n}:{c}:{s}" for n, (c, s) in sorted(sums.items())).encode()).hexdigest()
    return Copied({name: count for name, (count, _) in sums.items()}, digest)


def _check_source(db: Connection) -> None:
    found = schema.version(db)
    if found.empty:
        raise SchemaError(f"{db.where}: there is no database here to copy")
    if not found.current:
        raise SchemaError(
            f"{db.where}: the database is at schema {found.revision or 'from before this release'}, "
            f"not {schema.head()}",
            hint="run `newsletter db upgrade` on it first",
        )


def _batches(db: Connection, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in db.execute(sql):
        batch.append(tuple(row))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _fingerprint(db: Connection, table: str) -> tuple[int, str]:
    """(rows, checksum): the sum of every row's SHA-256, so the order rows come back in (which
    differs between backends' collations) does not matter, and a changed value does."""
    total, count = 0, 0
    for row in db.execute(f"SELECT * FROM {table}"):
        canonical = "\x1f".join(_canonical(value) for value in row).encode("utf-8", "surrogatepass")
        total = (total + int.from_bytes(hashlib.sha256(canonical).digest(), "big")) % (1 << 256)
        count += 1
    return count, f"{total:064x}"


def _canonical(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return "b:" + value.hex()
    if isinstance(value, bool):
        return f"i:{int(value)}"
    if isinstance(value, float):
        return f"f:{value!r}"
    if isinstance(value, int):
        return f"i:{value}"
    return f"s:{value}"


def _present(location: Location) -> bool:
    """A server's database is judged by its tables; a file must exist (opening would create it)."""
    return is_url(location) or Path(location).exists()


class _opened:
    """A connection that does not check or create the schema (these commands judge it)."""

    def __init__(self, location: Location) -> None:
        self.location = location

    def __enter__(self) -> Connection:
        self.db = open_connection(self.location)
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


__all__ = ["Copied", "Status", "backup", "copy", "shown", "status", "tables", "upgrade"]
