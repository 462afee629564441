"""A journal made by the release before the project database: refused by a plain open, upgraded
by `schema.upgrade` (what `newsletter db upgrade` runs), keeping its record; and the upgraded file
moved into PostgreSQL (`newsletter db copy`) plans the same sends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsletter.audience.csvfile import load_audience
from newsletter.sending.plan import ALREADY_SENT, plan
from newsletter.store import Location, SchemaError, admin, open_store, schema
from newsletter.store.connection import open_connection
from newsletter.store.journal import OUTBOX, SMTP, Journal
from newsletter.store.suppressions import is_suppressed
from tests.conftest import REPO

FIXTURE = Path(__file__).parent / "fixtures" / "store" / "journal-release.sqlite3"


def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    return path


def upgraded(tmp_path: Path, database: Location) -> Location:
    """The fixture upgraded in place; on PostgreSQL, then copied into the test's database."""
    path = old_file(tmp_path)
    with open_connection(path) as db:
        assert schema.upgrade(db) == (None, schema.head())
    if isinstance(database, str):
        admin.copy(path, database)
        return database
    return path


def test_a_plain_open_of_the_old_file_is_refused_in_one_line_and_changes_nothing(tmp_path: Path) -> None:
    path = old_file(tmp_path)
    with pytest.raises(SchemaError) as refused:
        open_store(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and "from before this release" in message and "\n" not in message
    assert "newsletter db upgrade" in str(refused.value.hint)
    assert path.read_bytes() == FIXTURE.read_bytes()


def test_the_old_journal_is_upgraded_in_place_and_keeps_every_row(tmp_path: Path, database: Location) -> None:
    with open_store(upgraded(tmp_path, database)) as store:
        db = store.db
        assert schema.version(db).current
        assert db.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'").scalar_one() == 18
        assert db.execute("SELECT DISTINCT edition FROM deliveries").fetchall() == [("",)]
        assert db.execute("SELECT count(*) FROM sends").scalar_one() == 2
        assert is_suppressed(db, "margaret.hughes@example.org") == "unsubscribed"
        assert db.execute("SELECT count(*) FROM subscribers").scalar_one() == 0


def test_a_resend_planned_on_the_upgraded_journal_sends_nobody_twice(tmp_path: Path, database: Location) -> None:
    location = upgraded(tmp_path, database)
    audience = load_audience(REPO / "subscribers.example.csv")
    with Journal(location, route=OUTBOX) as journal:
        planned = plan(journal, "spring-2018", audience)
    assert planned.chosen == []
    assert planned.report.skipped[ALREADY_SENT] == 18


def test_an_old_send_that_only_went_to_the_outbox_becomes_a_rehearsal(tmp_path: Path, database: Location) -> None:
    """The fixture's only send went to the outbox: upgraded, its rows are the outbox's, so the
    first send through a relay reaches all 18 (before, they were all skipped as already sent)."""
    location = upgraded(tmp_path, database)
    audience = load_audience(REPO / "subscribers.example.csv")
    with Journal(location, route=SMTP) as journal:
        planned = plan(journal, "spring-2018", audience)
        routes = journal.db.execute("SELECT DISTINCT route FROM deliveries").fetchall()
        runs = journal.db.execute("SELECT kind, route FROM sends ORDER BY id").fetchall()
        chosen = planned.chosen
    assert len(chosen) == 18 and not planned.report.skipped[ALREADY_SENT]
    assert routes == [(OUTBOX,)] and runs == [("send", OUTBOX), ("test", OUTBOX)]


def test_an_old_send_through_a_relay_stays_sent_for_the_relay(tmp_path: Path) -> None:
    """Unsure means real: rows of an issue that any send took through a relay stay `smtp`.
    SQLite only: the subject is the legacy migration of an old file's rows."""
    path = old_file(tmp_path)
    with open_connection(path) as db:  # the old file, before any upgrade: its own schema
        db.execute(
            "INSERT INTO sends (issue, kind, destination, started_at) "
            "VALUES ('spring-2018', 'send', 'smtp.office.example:587', '2026-11-24T09:00:00+00:00')"
        )
        schema.upgrade(db)
    audience = load_audience(REPO / "subscribers.example.csv")
    with Journal(path, route=SMTP) as journal:
        planned = plan(journal, "spring-2018", audience)
        assert planned.chosen == [] and planned.report.skipped[ALREADY_SENT] == 18
