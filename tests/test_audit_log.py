"""The audit log's chain (newsletter.audit): appended in the action's transaction, read back,
and any edited or deleted entry found, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter import audit
from newsletter.audit import Staff
from newsletter.store.connection import Connection
from newsletter.store.database import connect, transaction

STAFF = Staff(name="Jo Bloggs", source="NEWSLETTER_STAFF", host="desk-1")


def _append(db: Connection, count: int) -> None:
    for number in range(count):
        with transaction(db):
            audit.record(db, "send.test", staff=STAFF, issue="spring-2018", details={"n": number, "route": "outbox"})


def test_entries_are_chained_and_read_back_in_order(database: Path | str) -> None:
    with connect(database) as db:
        _append(db, 3)
        found = audit.entries(db)
        assert [e.id for e in found] == [1, 2, 3]
        assert found[0].prev_hash == "0" * 64
        assert [e.prev_hash for e in found[1:]] == [e.hash for e in found[:-1]]
        assert found[2].details == {"n": 2, "route": "outbox"} and found[2].staff == "Jo Bloggs"
        assert audit.verify(db) == (3, None)
        assert [e.id for e in audit.entries(db, issue="other")] == []


def test_an_entry_rolls_back_with_its_action(database: Path | str) -> None:
    with connect(database) as db:
        with pytest.raises(RuntimeError), transaction(db):
            audit.record(db, "erase", staff=STAFF)
            raise RuntimeError("the action failed")
        assert audit.entries(db) == []
        with pytest.raises(RuntimeError, match="inside"):
            audit.record(db, "erase", staff=STAFF)
