"""store/connection.py itself, on a SQLite file and a real PostgreSQL server: the placeholders,
transactions, writers queuing one behind another, and which failures count as transient."""

from __future__ import annotations

import threading

import pytest

from newsletter.store import Location, transaction
from newsletter.store.connection import DatabaseError, is_transient, open_connection


def test_question_marks_are_placeholders_only_outside_quoted_strings(database: Location) -> None:
    """PostgreSQL's driver wants `%s` and reads a bare `%` as one: the Connection rewrites `?`
    outside quotes and doubles every `%`, so the same SQL means the same on both."""
    with open_connection(database) as db:
        row = db.execute("SELECT ?, '?', 'a%b', ? || '%', 'it''s ?', ?", (1, "x", "y")).fetchone()
    assert tuple(row) == (1, "?", "a%b", "x%", "it's ?", "y")


def test_a_transaction_rolls_back_on_any_error(database: Location) -> None:
    with open_connection(database) as db:
        db.execute("CREATE TABLE t (n INTEGER)")
        with pytest.raises(RuntimeError), transaction(db):
            db.execute("INSERT INTO t VALUES (?)", (1,))
            raise RuntimeError("halfway")
        assert not db.in_transaction
        with pytest.raises(DatabaseError), transaction(db):
            db.execute("INSERT INTO t VALUES (?)", (2,))
            db.execute("INSERT INTO no_such_table VALUES (1)")
        with transaction(db):
            db.execute("INSERT INTO t VALUES (?)", (3,))
        assert db.execute("SELECT n FROM t").fetchall() == [(3,)]


def test_two_connections_writers_queue_one_behind_the_other(database: Location) -> None:
    """Read, then write what was read, in two connections at once: only if the second writer
    waits for the first one's commit does the counter reach 2 (else both read 0 and write 1)."""
    with open_connection(database) as setup, transaction(setup):
        setup.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        setup.execute("INSERT INTO counter VALUES (0)")
    second_read = threading.Event()
    errors: list[BaseException] = []

    def increment_in_second_connection() -> None:
        try:
            with open_connection(database) as other, transaction(other):
                n = other.execute("SELECT n FROM counter").scalar_one()
                second_read.set()
                other.execute("UPDATE counter SET n = ?", (n + 1,))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            second_read.set()

    with open_connection(database) as first:
        with transaction(first):
            n = first.execute("SELECT n FROM counter").scalar_one()
            thread = threading.Thread(target=increment_in_second_connection)
            thread.start()
            # Bounded wait, not a timed assertion: a second writer that did not queue reads now.
            second_read.wait(1.0)
            first.execute("UPDATE counter SET n = ?", (n + 1,))
        thread.join(60)
        assert not thread.is_alive() and not errors, errors
        assert first.execute("SELECT n FROM counter").scalar_one() == 2


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_busy_sqlite_file_is_transient_and_a_broken_statement_is_not(database: Location) -> None:
    with open_connection(database) as holder, open_connection(database) as other:
        holder.execute("CREATE TABLE t (n INTEGER)")
        other.execute("PRAGMA busy_timeout = 0")  # fail at once instead of waiting 30 s
        with transaction(holder):
            holder.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(DatabaseError, match="locked") as busy:
                other.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseError) as broken:
            other.execute("SELEC 1")
    assert is_transient(busy.value)
    assert not is_transient(broken.value)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_lost_postgresql_connection_is_transient_and_a_broken_statement_is_not(database: Location) -> None:
    with open_connection(database) as victim, open_connection(database) as admin:
        pid = victim.execute("SELECT pg_backend_pid()").scalar_one()
        with pytest.raises(DatabaseError) as broken:
            victim.execute("SELEC 1")
        assert admin.execute("SELECT pg_terminate_backend(?)", (pid,)).scalar_one() is True
        with pytest.raises(DatabaseError) as lost:
            victim.execute("SELECT 1")
    assert is_transient(lost.value)
    assert not is_transient(broken.value)
