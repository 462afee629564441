"""The journal on a SQLite file and a real PostgreSQL server: the shared schema, ordered grouped
writes, planning."""

from __future__ import annotations

import sqlalchemy

from newsletter.sending.plan import ALREADY_SENT, FAILED_BEFORE, plan
from newsletter.store import Location, connect
from newsletter.store.journal import OUTBOX, SMTP, Journal
from tests.support.db import query
from tests.support.sending import addresses, audience


def test_the_shared_table_has_the_agreed_columns_and_sqlite_is_in_wal_mode(database: Location, backend: str) -> None:
    Journal(database).close()
    with connect(database) as db:
        if backend == "sqlite":
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = db.execute("SELECT * FROM deliveries WHERE 1 = 0").columns()
        indexes = [index["name"] for index in sqlalchemy.inspect(db.sa).get_indexes("deliveries")]
    assert columns == [
        "issue",
        "route",
        "email",
        "state",
        "reason",
        "attempts",
        "last_reply",
        "message_id",
        "created_at",
        "updated_at",
        "edition",
        "job",  # a shared send's claims (revision 0007, store/claims.py)
        "claimed_by",
        "claim_until",
    ]
    assert "deliveries_message_id" in indexes and "deliveries_job" in indexes


def test_the_last_buffered_write_wins_within_one_commit(database: Location) -> None:
    with Journal(database) as journal:
        journal.prepare("x", ["A@Example.net"], [])
        journal.mark_sending("x", "A@Example.net", "<1@o>")
        journal.settle("x", "A@Example.net", "pending", "451 later")
        journal.mark_sending("x", "A@Example.net", "<2@o>")
        journal.flush()
        row = journal.db.execute("SELECT state, attempts, message_id, last_reply FROM deliveries").fetchone()
    assert row == ("sending", 2, "<2@o>", "451 later")


def test_planning_skips_sent_and_failed_and_reports_unknown(database: Location) -> None:
    emails = addresses(4)
    with Journal(database) as journal:
        journal.prepare("x", emails, [])
        for email, state in zip(emails[:3], ("sent", "failed", "sending"), strict=True):
            journal.mark_sending("x", email, "<id@o>")
            journal.settle("x", email, state, "reply")
        journal.flush()
        planned = plan(journal, "x", audience(emails))
        assert [s.email for s in planned.chosen] == [emails[3]]
        assert planned.report.skipped == {ALREADY_SENT: 1, FAILED_BEFORE: 1}
        assert planned.report.unknown == [emails[2]]
        again = plan(journal, "x", audience(emails), resend_unknown=True, retry_failed=True)
        assert [s.email for s in again.chosen] == emails[1:]


def test_a_skipped_row_never_overwrites_a_sent_one(database: Location) -> None:
    with Journal(database) as journal:
        journal.prepare("x", ["a@example.net"], [])
        journal.settle("x", "a@example.net", "sent", "250 ok")
        journal.flush()
        journal.prepare("x", [], [("a@example.net", "suppressed"), ("b@example.net", "no consent")])
        rows = dict(journal.db.execute("SELECT email, state || ':' || coalesce(reason, '') FROM deliveries"))
    assert rows == {"a@example.net": "sent:", "b@example.net": "skipped:no consent"}


def test_a_rehearsal_in_the_outbox_never_counts_as_sent_for_the_relay(database: Location) -> None:
    emails = addresses(3)
    path = database
    with Journal(path, route=OUTBOX) as outbox:
        outbox.prepare("x", emails, [])
        for email in emails:
            outbox.mark_sending("x", email, "<id@o>")
            outbox.settle("x", email, "sent", "written")
        outbox.flush()
        assert [s.email for s in plan(outbox, "x", audience(emails)).chosen] == []
    with Journal(path, route=SMTP) as relay:
        planned = plan(relay, "x", audience(emails))
        assert [s.email for s in planned.chosen] == emails, "the relay send plans everybody"
        assert relay.counts("x") == {}
        relay.prepare("x", emails[:1], [])
        relay.mark_sending("x", emails[0], "<r@o>")
        relay.settle("x", emails[0], "sent", "250 ok")
        relay.flush()
        assert relay.reached("x") == {OUTBOX, SMTP}
    with Journal(path, route=OUTBOX) as outbox:
        assert outbox.counts("x") == {"sent": 3}, "the relay's rows never change the rehearsal's"
    rows = query(path, "SELECT route, count(*) FROM deliveries GROUP BY route ORDER BY route")
    assert rows == [(OUTBOX, 3), (SMTP, 1)]
