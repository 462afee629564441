"""Reading a test's database through the store's own interface, on either backend (no driver
objects in the tests: what they check is what the code sees)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsletter.store import connect, transaction


def query(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every row of one statement, as plain tuples."""
    with connect(location) as db:
        return [tuple(row) for row in db.execute(sql, params)]


def scalar(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with connect(location) as db:
        return db.execute(sql, params).scalar_one()


def write(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> int:
    """One statement in a transaction of its own (a test arranging a state); rows changed."""
    with connect(location) as db, transaction(db):
        return db.execute(sql, params).rowcount
