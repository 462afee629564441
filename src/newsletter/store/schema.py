"""The schema's version, checked once per process, and `newsletter db upgrade`, through Alembic.

A new, empty database is created at the newest revision by whatever opens it first (the quick
start needs no extra step). An existing database at an older revision is refused with one line
until someone runs `newsletter db upgrade` on purpose: on PostgreSQL several hosts and the public
half share one database, and one staff desk with a newer release must not change its tables under
the others. A SQLite file from a release before Alembic (legacy version 1 to 5, `legacy.py`) counts
as older: the baseline revision adopts it. The revisions live in `revisions/versions/`.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.store.connection import SQLITE, Connection
from newsletter.store.errors import SchemaError
from newsletter.store.transactions import transaction

REVISIONS = Path(__file__).parent / "revisions"
UPGRADE_HINT = "back it up first (`newsletter db backup FILE`), then run `newsletter db upgrade`"


if TYPE_CHECKING:
    from alembic.config import Config


def _config(db: Connection | None = None) -> Config:
    from alembic.config import Config  # Alembic only when migrating: every command starts faster

    config = Config()
    config.set_main_option("script_location", str(REVISIONS))
    if db is not None:
        config.attributes["connection"] = db.sa
        config.attributes["store"] = db
    return config


_REVISION = re.compile(r'^revision = "([^"]+)"$', re.MULTILINE)
_DOWN = re.compile(r'^down_revision = (?:None|"([^"]+)")$', re.MULTILINE)


@functools.cache
def _chain() -> dict[str, str | None]:
    """Revision -> the one before it, read from the revision files' own lines: checking a
    database's version needs no Alembic import (tests/test_db_cli.py holds this equal to
    Alembic's own reading)."""
    chain: dict[str, str | None] = {}
    for path in sorted((REVISIONS / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN.search(text)
        assert revision and down, f"{path}: a revision file needs revision = and down_revision = lines"
        chain[revision.group(1)] = down.group(1)
    return chain


def head() -> str:
    """The newest revision this release knows: the one no other revision follows."""
    chain = _chain()
    heads = set(chain) - {down for down in chain.values() if down}
    assert len(heads) == 1, f"revisions in {REVISIONS} must form one line, found heads {sorted(heads)}"
    return heads.pop()


def known(revision: str) -> bool:
    return revision in _chain()


@dataclass(frozen=True)
class Version:
    """Where a database stands: its revision (None before Alembic), and whether it holds anything."""

    revision: str | None
    empty: bool

    @property
    def current(self) -> bool:
        return self.revision == head()


def _has_table(db: Connection, name: str) -> bool:
    if db.backend == SQLITE:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
    return int(db.execute(sql, (name,)).scalar_one()) > 0


def version(db: Connection) -> Version:
    if _has_table(db, "alembic_version"):
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        return Version(str(row[0]) if row else None, False)
    if db.backend == SQLITE:
        empty = int(db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").scalar_one()) == 0
    else:
        empty = not _has_table(db, "meta")
    return Version(None, empty)


def upgrade(db: Connection) -> tuple[str | None, str]:
    """Bring the database to the newest revision in one transaction: (from, to)."""
    with transaction(db):
        before = version(db).revision  # read again under the write lock: another process may have won
        if before is not None and not known(before):
            raise _newer(db, before)
        if before != head():
            from alembic import command

            command.upgrade(_config(db), "head")
    return before, head()


_checked: set[str] = set()
_checked_lock = threading.Lock()


def ensure(db: Connection) -> None:
    """Once per process and database: create a new one at the newest revision, refuse an older
    or a newer one (SchemaError, one line naming the database and what to do)."""
    with _checked_lock:
        if db.where in _checked:
            return
    found = version(db)
    if found.empty:
        upgrade(db)
    elif not found.current:
        if found.revision is not None and not known(found.revision):
            raise _newer(db, found.revision)
        at = f"schema {found.revision}" if found.revision else "a schema from before this release"
        raise SchemaError(f"{db.where}: the database is at {at}; this release needs {head()}", hint=UPGRADE_HINT)
    if db.where != ":memory:":  # each in-memory database is a new one
        with _checked_lock:
            _checked.add(db.where)


def _newer(db: Connection, revision: str) -> SchemaError:
    return SchemaError(
        f"{db.where}: the database is at schema {revision}, newer than this release knows ({head()})",
        hint="a newer release of newsletter wrote it: upgrade this one (pip install -U) before using it",
    )
