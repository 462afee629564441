"""Claims on a shared send, against the store on SQLite and a real PostgreSQL server: each row to
one worker at a time, leases judged by the database's clock, a lost claim never marked
`sending`, a recipient who left after planning skipped, the relay's pacing shared."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from newsletter.store import claims, connect, transaction
from newsletter.store.journal import Journal
from newsletter.store.subscribers import insert
from newsletter.store.suppressions import add as suppress
from tests.support.db import query, write

ISSUE, JOB = "spring-2018", 7


def planned(database: Path | str, count: int) -> list[str]:
    """`count` subscribed people, each a pending row of job JOB."""
    emails = [f"reader{i:03d}@example.org" for i in range(count)]
    with connect(database) as db, transaction(db):
        for email in emails:
            insert(db, email, "Ann", "", "", (), "subscribed", "2018-01-01")
            db.execute(
                "INSERT INTO deliveries (issue, route, email, state, created_at, updated_at, job) "
                "VALUES (?, 'smtp', ?, 'pending', '', '', ?)",
                (ISSUE, email, JOB),
            )
    return emails


def test_concurrent_claims_take_each_row_once(database: Path | str) -> None:
    emails = planned(database, 60)
    taken: dict[str, list[str]] = {}

    def worker(name: str) -> None:
        with connect(database) as db:
            got = taken.setdefault(name, [])
            for _ in range(60):  # bounded: 60 rows, at least one each round until none are left
                if not (batch := claims.claim(db, JOB, name, 7, 30.0).people):
                    return
                got += [person[0] for person in batch]

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [e for got in taken.values() for e in got]
    assert sorted(every) == emails, "every row claimed, none twice"
    assert query(database, "SELECT count(*) FROM deliveries WHERE claimed_by IS NULL") == [(0,)]


def test_a_claim_whose_lease_ended_goes_to_another_worker_and_the_first_cannot_mark_it(
    database: Path | str,
) -> None:
    planned(database, 3)
    with connect(database) as db:
        first = claims.claim(db, JOB, "first", 10, 0.2).people
        assert len(first) == 3 and claims.claim(db, JOB, "second", 10, 30.0).people == [], "held"
        # The lease is judged by the database's clock: wait until *it* says the lease is over.
        deadline = time.monotonic() + 30
        while not (second := claims.claim(db, JOB, "second", 10, 30.0).people):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert len(second) == 3
    with Journal(database, claimant="first") as late:
        late.mark_sending(ISSUE, first[0][0], "<id@x>")
        late.flush()
        assert late.lost == {first[0][0]}, "the stalled worker learns it lost the claim"
    with Journal(database, claimant="second") as holder:
        holder.mark_sending(ISSUE, first[0][0], "<id@x>")
        holder.flush()
        assert not holder.lost
    assert query(database, "SELECT state, claimed_by FROM deliveries WHERE email = ?", (first[0][0],)) == [
        ("sending", "second")
    ]


def test_someone_who_left_after_planning_is_skipped_when_claimed(database: Path | str) -> None:
    emails = planned(database, 4)
    write(database, "UPDATE subscribers SET status = 'unsubscribed' WHERE email = ?", (emails[0],))
    with connect(database) as db, transaction(db):
        suppress(db, emails[1], "hard-bounce", "test")
    with connect(database) as db:
        batch = claims.claim(db, JOB, "w", 10, 30.0)
    assert sorted(batch.skipped) == emails[:2] and [p[0] for p in batch.people] == emails[2:]
    assert query(database, "SELECT state, reason FROM deliveries WHERE email = ?", (emails[0],)) == [
        ("skipped", claims.UNSUBSCRIBED_SINCE)
    ]


def test_released_claims_and_the_count_of_what_is_left(database: Path | str) -> None:
    planned(database, 5)
    with connect(database) as db:
        claims.claim(db, JOB, "w", 2, 30.0)
        assert claims.left(db, JOB) == claims.Left(pending=5, in_flight=0)
        assert claims.release(db, "w") == 2
        assert len(claims.claim(db, JOB, "v", 10, 30.0).people) == 5


def test_the_relays_rate_and_hourly_budget_are_shared(database: Path | str) -> None:
    with connect(database) as one, connect(database) as two:
        wait_a, got_a = claims.reserve(one, "relay", 5, 1.0, 8)
        wait_b, got_b = claims.reserve(two, "relay", 5, 1.0, 8)
        wait_c, got_c = claims.reserve(one, "relay", 5, 1.0, 8)
    assert (got_a, got_b, got_c) == (5, 3, 0), "eight an hour between them"
    assert wait_a < 1.0 and 4.0 < wait_b < 5.5, "the second block starts after the first one's slots"
    assert wait_c > 3000, "the budget is spent until the hour is over"
    with connect(database) as db:
        claims.throttle(db, "relay", 30.0)
        assert 25.0 < claims.paused(db, "relay") <= 30.0, "every worker of the relay sees the pause"


def test_a_claim_judges_only_its_own_batch(database: Path | str) -> None:
    """A claim looks at the rows it takes, not every row the worker holds: someone of an earlier
    batch who leaves meanwhile is the send loop's to settle (its `sending` mark still needs the
    claim), and the second batch's count of skipped people is the second batch's own."""
    emails = planned(database, 6)
    with connect(database) as db:
        first = claims.claim(db, JOB, "w", 3, 30.0)
        held = [p[0] for p in first.people]
        write(database, "UPDATE subscribers SET status = 'unsubscribed' WHERE email = ?", (held[0],))
        rest = [e for e in emails if e not in held]
        write(database, "UPDATE subscribers SET status = 'unsubscribed' WHERE email = ?", (rest[0],))
        second = claims.claim(db, JOB, "w", 3, 30.0)
    assert len(held) == 3 and first.skipped == []
    assert second.skipped == [rest[0]] and [p[0] for p in second.people] == rest[1:]
    assert query(database, "SELECT state, claimed_by FROM deliveries WHERE email = ?", (held[0],)) == [("pending", "w")]
