"""The project database on SQLite and a real PostgreSQL server: its schema, the subscribers API,
consent events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.store import Location, SchemaError, open_store, schema, transaction
from newsletter.store import subscribers as subs
from newsletter.store.connection import MANY_ROWS, DatabaseError, open_connection, shown
from newsletter.store.consent import events
from newsletter.store.journal import Journal, sent_issues
from newsletter.store.subscribers import Evidence
from newsletter.store.suppressions import add_hash, is_suppressed

WEB = Evidence("web-form", "form v1", wording="Yes, send me the newsletter", ip="192.0.2.1", user_agent="test")

TABLES = {
    "subscribers",
    "consent_events",
    "suppressions",
    "suppressed_hashes",
    "deliveries",
    "sends",
    "bounce_events",
    "send_locks",
    "meta",
    "issue_snapshots",
    "issue_snapshot_editions",
    "client_limits",
}


def test_a_new_database_has_every_agreed_table_at_the_current_version(database: Location, backend: str) -> None:
    with open_store(database) as store:
        db = store.db
        present = {name for name in TABLES if db.execute(f"SELECT count(*) FROM {name}").scalar_one() >= 0}
        assert schema.version(db).current
        lock_columns = db.execute("SELECT * FROM send_locks WHERE false").columns()
        keys = dict(db.execute("SELECT key, length(value) FROM meta").fetchall())
        if backend == "sqlite":
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert present == TABLES
    assert lock_columns == ["issue", "host", "pid", "started_at", "lease_until", "token"]
    assert keys == {"erasure_key": 64, "client_limit_key": 64}


def test_opening_again_changes_nothing_and_a_newer_database_is_refused(database: Location) -> None:
    with open_connection(database) as db:  # made at head without this process remembering it as checked
        schema.upgrade(db)
        key = db.execute("SELECT value FROM meta WHERE key = 'erasure_key'").scalar_one()
        assert schema.upgrade(db)[0] == schema.head()  # a second upgrade is a no-op
        assert db.execute("SELECT value FROM meta WHERE key = 'erasure_key'").scalar_one() == key
        with transaction(db):
            db.execute("UPDATE alembic_version SET version_num = 'f00d'")
    with pytest.raises(SchemaError, match="newer than this release") as refused:
        open_store(database)
    assert shown(database) in str(refused.value)
    assert "f00d" in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_failed_upgrade_of_an_old_file_leaves_it_as_it_was(database: Path) -> None:
    """Legacy SQLite files only (PostgreSQL starts at the baseline): the upgrade runs in one
    transaction, so one that fails halfway leaves no new table behind."""
    with open_connection(database) as db:  # a v1-era file whose subscribers table is in the way of v2
        db.execute("CREATE TABLE subscribers (x)")
    with pytest.raises(SchemaError, match="from before this release") as refused:
        open_store(database)
    assert "newsletter db upgrade" in str(refused.value.hint)
    with open_connection(database) as db:
        with pytest.raises(DatabaseError, match="subscribers"):
            schema.upgrade(db)
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0] == 0


def test_signup_confirm_preferences_unsubscribe_each_leave_an_event(database: Location) -> None:
    with open_store(database) as store:
        db = store.db
        record = subs.add_pending(db, "Ann@Example.org", "Ann", "", "Reddish South", ["Schools", "events"], WEB)
        assert (record.email, record.status, record.tags) == ("ann@example.org", "pending", ("schools", "events"))
        assert subs.confirm(db, "ann@example.org", WEB)
        assert not subs.confirm(db, "ann@example.org", WEB)  # nothing left to confirm
        subs.mark_confirmation_sent(db, "ann@example.org", "2026-01-01T00:00:00")
        subs.add_pending(db, "ann@example.org", "Mallory", "", "", [], WEB)  # an unconfirmed form
        kept = subs.get(db, "ANN@example.org")
        assert kept is not None and (kept.status, kept.first_name, kept.ward) == ("subscribed", "Ann", "Reddish South")
        assert kept.consented_at and kept.confirmation_sent_at == "2026-01-01T00:00:00"
        subs.update_preferences(
            db, "ann@example.org", first_name="Annie", last_name="", ward="Heatons North", tags=["events"], evidence=WEB
        )
        subs.unsubscribe(db, "ann@example.org", Evidence("unsubscribe-link"))
        final = subs.get(db, "ann@example.org")
        kinds = [(e.kind, e.source) for e in events(db, "ann@example.org")]
        assert is_suppressed(db, "ann@example.org") == "unsubscribed"
    assert final is not None and (final.status, final.first_name, final.ward) == (
        "unsubscribed",
        "Annie",
        "Heatons North",
    )
    assert kinds == [
        ("signed-up", "web-form"),
        ("confirmed", "web-form"),
        ("signed-up", "web-form"),
        ("preferences-changed", "web-form"),
        ("unsubscribed", "unsubscribe-link"),
    ]


def test_a_confirmed_new_signup_lifts_only_an_unsubscribe_suppression(database: Location) -> None:
    with open_store(database) as store:
        db = store.db
        subs.unsubscribe(db, "a@example.org", Evidence("staff"))
        with transaction(db):
            db.execute("INSERT INTO suppressions VALUES ('b@example.org', 'complaint', 'fbl', '', 'x')")
        for email in ("a@example.org", "b@example.org"):
            assert subs.add_pending(db, email, "", "", "", [], WEB).status == "pending"
            assert is_suppressed(db, email)  # a signup alone lifts nothing
            assert subs.confirm(db, email, WEB)
        assert is_suppressed(db, "a@example.org") is None
        assert is_suppressed(db, "b@example.org") == "complaint"


def test_an_erased_address_is_known_only_by_its_keyed_hash(database: Location) -> None:
    with open_store(database) as store:
        with transaction(store.db):
            add_hash(store.db, "Gone@Example.org")
        stored = store.db.execute("SELECT hash FROM suppressed_hashes").fetchone()[0]
        assert is_suppressed(store.db, "gone@example.org") == "erased"
        assert is_suppressed(store.db, "other@example.org") is None
    assert "gone" not in stored and len(stored) == 64


def test_paging_reads_every_subscriber_once_in_order(database: Location) -> None:
    with open_store(database) as store:
        with transaction(store.db):
            for n in range(25):
                subs.insert(store.db, f"p{n:02}@example.org", "", "", "", [], "subscribed", "2020-01-01")
            subs.insert(store.db, "q@example.org", "", "", "", [], "pending", None)
        listed = [r.email for r in subs.iterate(store.db, "subscribed", page=10)]
        assert subs.counts(store.db) == {"pending": 1, "subscribed": 25, "unsubscribed": 0}
    assert listed == sorted(f"p{n:02}@example.org" for n in range(25))


def test_sent_issues_lists_only_real_deliveries(database: Location) -> None:
    with Journal(database) as journal:
        journal.prepare("spring-2018", ["a@example.org", "b@example.org"], [])
        journal.prepare("draft", ["a@example.org"], [])
        journal.mark_sending("spring-2018", "a@example.org", "<1@x>", edition="reddish-south")
        journal.settle("spring-2018", "a@example.org", "sent", "250 ok")
        journal.flush()
        issues = sent_issues(journal.db)
        edition = journal.db.execute("SELECT edition FROM deliveries WHERE state = 'sent'").fetchone()[0]
    assert [slug for slug, _ in issues] == ["spring-2018"] and edition == "reddish-south"


def test_many_rows_in_a_transaction_go_a_chunk_at_a_time_and_stay_all_or_nothing(database: Location) -> None:
    """`executemany` inside a transaction hands the driver MANY_ROWS rows at a time (a plan of a
    million recipients is never a million tuples in memory: the rows a generator has not yet
    given are not read), and the transaction is still one: a failure after some chunks went to
    the server leaves none of them."""
    insert = "INSERT INTO suppressed_hashes (hash, reason, created_at) VALUES (?, 'test', '2026-12-06')"
    seen_in_flight: list[int] = []

    def rows(count: int, fail_at: int | None = None) -> Iterator[tuple[str]]:
        for n in range(count):
            if n == MANY_ROWS + 1:  # the first chunk has gone to the server by now, and no more
                seen_in_flight.append(store.db.execute("SELECT count(*) FROM suppressed_hashes").scalar_one())
            if n == fail_at:
                raise RuntimeError("the rows' source failed")
            yield (f"h{n}",)

    with open_store(database) as store:
        with pytest.raises(RuntimeError), transaction(store.db):
            store.db.executemany(insert, rows(3 * MANY_ROWS, fail_at=2 * MANY_ROWS + 3))
        assert store.db.execute("SELECT count(*) FROM suppressed_hashes").scalar_one() == 0, "all or nothing"
        with transaction(store.db):
            store.db.executemany(insert, rows(2 * MANY_ROWS + 7))
        assert store.db.execute("SELECT count(*) FROM suppressed_hashes").scalar_one() == 2 * MANY_ROWS + 7
    assert seen_in_flight == [MANY_ROWS, MANY_ROWS]
