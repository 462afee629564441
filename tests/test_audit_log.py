"""The audit log's chain (newsletter.audit): appended in the action's transaction, read back,
and any edited or deleted entry found, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import audit
from newsletter.audit import Staff
from newsletter.audit.log import FIELDS, GENESIS
from newsletter.audit.sends import fingerprint
from newsletter.store.connection import Connection, DatabaseError
from newsletter.store.database import connect, transaction

STAFF = Staff(name="Jo Bloggs", source="NEWSLETTER_STAFF", host="desk-1")


def _append(db: Connection, count: int, staff: Staff = STAFF) -> None:
    for number in range(count):
        with transaction(db):
            audit.record(db, "send.test", staff=staff, issue="spring-2018", details={"n": number, "route": "outbox"})


def test_entries_are_chained_and_read_back_in_order(database: Path | str) -> None:
    with connect(database) as db:
        _append(db, 3)
        found = audit.entries(db)
        assert [e.id for e in found] == [1, 2, 3]
        assert found[0].prev_hash == GENESIS
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


@pytest.mark.parametrize(
    ("sql", "broken", "problem"),
    [
        ("UPDATE audit_log SET staff = 'Somebody Else' WHERE id = 2", 2, "edited"),
        ('UPDATE audit_log SET details = \'{"n":9,"route":"outbox"}\' WHERE id = 3', 3, "edited"),
        ("DELETE FROM audit_log WHERE id = 2", 3, "deleted: entry 2 missing"),
        ("DELETE FROM audit_log WHERE id = 1", 2, "deleted: entry 1 missing"),
        ("DELETE FROM audit_log WHERE id = 4", 4, "deleted: the log ends at entry 3"),
    ],
)
def test_an_edited_or_deleted_entry_is_named(database: Path | str, sql: str, broken: int, problem: str) -> None:
    with connect(database) as db:
        _append(db, 4)
        db.execute(sql)
        _count, found = audit.verify(db)
    assert found is not None and found.id == broken and problem in found.problem, found


def test_a_rewritten_entry_with_its_own_hash_recomputed_breaks_the_next_link(database: Path | str) -> None:
    with connect(database) as db:
        _append(db, 3)
        row = dict(zip(FIELDS, db.execute("SELECT * FROM audit_log WHERE id = 2").fetchone(), strict=True))
        row["staff"] = "Somebody Else"
        db.execute("UPDATE audit_log SET staff = ?, hash = ? WHERE id = 2", (row["staff"], audit.log.entry_hash(row)))
        _count, found = audit.verify(db)
    assert found is not None and found.id == 3 and "prev_hash does not match" in found.problem


def test_two_hosts_appending_at_once_never_fork_the_chain(database: Path | str) -> None:
    connect(database).close()  # created once, before the two writers race
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(host: str) -> None:
        try:
            with connect(database) as db:
                start.wait(timeout=30)
                _append(db, 15, Staff(name=host, source="NEWSLETTER_STAFF", host=host))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(host,)) for host in ("desk-1", "desk-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with connect(database) as db:
        found = audit.entries(db)
        assert audit.verify(db) == (30, None)
    assert [e.id for e in found] == list(range(1, 31))
    assert {e.host for e in found} == {"desk-1", "desk-2"}


def test_a_second_entry_chained_onto_the_same_one_is_refused_by_the_table(database: Path | str) -> None:
    with connect(database) as db:
        _append(db, 1)
        first = audit.entries(db)[0]
        with pytest.raises(DatabaseError):
            db.execute(
                "INSERT INTO audit_log (id, at, staff, source, host, action, issue, details, prev_hash, hash) "
                "VALUES (2, 'x', 'x', 'x', 'x', 'erase', NULL, '{}', ?, 'x')",
                (first.prev_hash,),
            )


class _Undo(Exception):
    """Rolls one hypothesis example's edit back."""


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_single_field_edit_of_any_entry_is_found(database: Path | str, data: st.DataObject) -> None:
    with connect(database) as db:
        if not audit.entries(db):
            _append(db, 4)
        target = data.draw(st.integers(1, 4), label="entry")
        field = data.draw(st.sampled_from(FIELDS), label="field")
        row = dict(zip(FIELDS, db.execute("SELECT * FROM audit_log WHERE id = ?", (target,)).fetchone(), strict=True))
        if field == "id":
            value: object = data.draw(st.integers(-5, 50).filter(lambda n: n not in (1, 2, 3, 4)), label="value")
        elif field == "issue":
            value = data.draw(st.none() | _TEXT, label="value")
        else:
            value = data.draw(_TEXT, label="value")
        if value == row[field]:
            return
        with pytest.raises(_Undo), transaction(db):
            db.execute(f"UPDATE audit_log SET {field} = ? WHERE id = ?", (value, target))
            _count, broken = audit.verify(db)
            assert broken is not None, (field, target, value)
            raise _Undo


def test_the_settings_fingerprint_holds_no_secret() -> None:
    env = {
        "SMTP_URLS": "smtp://mailer:hunter2-secret@relay.example.net:587,smtps://relay2.example.net",
        "SMTP_PASSWORD": "hunter2-secret",
        "UNSUBSCRIBE_SECRET": "a-test-secret-that-is-long-enough",
        "DKIM_PRIVATE_KEY": "/keys/private.pem",
        "DKIM_SELECTOR": "news2026",
    }
    shown = repr(fingerprint(env))
    assert "hunter2" not in shown and "a-test-secret" not in shown and "private.pem" not in shown
    assert "mailer:***@relay.example.net:587" in shown and "news2026" in shown
