"""A journal made by the release before the project database opens, upgrades and keeps its record."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from newsletter.store.migrations import VERSION

from newsletter.audience.csvfile import load_audience
from newsletter.sending.plan import ALREADY_SENT, plan
from newsletter.store import open_store
from newsletter.store.journal import OUTBOX, SMTP, Journal
from newsletter.store.suppressions import is_suppressed
from tests.conftest import REPO

FIXTURE = Path(__file__).parent / "fixtures" / "store" / "journal-release.sqlite3"


def test_the_old_journal_is_migrated_in_place_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    with open_store(path) as store:
        db = store.db
        assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert db.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'").fetchone()[0] == 18
        assert db.execute("SELECT DISTINCT edition FROM deliveries").fetchall() == [("",)]
        assert db.execute("SELECT count(*) FROM sends").fetchone()[0] == 2
        assert is_suppressed(db, "margaret.hughes@example.org") == "unsubscribed"
        assert db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0


def test_a_resend_planned_on_the_upgraded_journal_sends_nobody_twice(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    audience = load_audience(REPO / "subscribers.example.csv")
    with Journal(path, route=OUTBOX) as journal:
        planned = plan(journal, "spring-2018", audience)
    assert planned.chosen == []
    assert planned.report.skipped[ALREADY_SENT] == 18


def test_an_old_send_that_only_went_to_the_outbox_becomes_a_rehearsal(tmp_path: Path) -> None:
    """The fixture's only send went to the outbox: upgraded, its rows are the outbox's, so the
    first send through a relay reaches all 18 (before, they were all skipped as already sent)."""
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    audience = load_audience(REPO / "subscribers.example.csv")
    with Journal(path, route=SMTP) as journal:
        planned = plan(journal, "spring-2018", audience)
        routes = journal.db.execute("SELECT DISTINCT route FROM deliveries").fetchall()
        runs = journal.db.execute("SELECT kind, route FROM sends ORDER BY id").fetchall()
        chosen = planned.chosen
    assert len(chosen) == 18 and not planned.report.skipped[ALREADY_SENT]
    assert routes == [(OUTBOX,)] and runs == [("send", OUTBOX), ("test", OUTBOX)]


def test_an_old_send_through_a_relay_stays_sent_for_the_relay(tmp_path: Path) -> None:
    """Unsure means real: rows of an issue that any send took through a relay stay `smtp`."""
    path = tmp_path / "journal.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO sends (issue, kind, destination, started_at) "
            "VALUES ('spring-2018', 'send', 'smtp.office.example:587', '2026-11-24T09:00:00+00:00')"
        )
    audience = load_audience(REPO / "subscribers.example.csv")
    with Journal(path, route=SMTP) as journal:
        planned = plan(journal, "spring-2018", audience)
        assert planned.chosen == [] and planned.report.skipped[ALREADY_SENT] == 18
