"""The database restarted mid-send: each recipient gets the issue once or is reported unknown;
nobody is lost, and the send completes (issue 19's fault test).

A real `newsletter send` (one process, or two workers) sends through a real aiosmtpd relay to
a PostgreSQL server of this test's own, which the relay restarts (an immediate stop, as a crash
or a failover would, then a start) while it holds the Nth message: a deterministic point counted
at the relay, never a sleep. Every connection the send held is dead afterwards; its writer thread,
claims and lock must notice, reconnect and go on. PostgreSQL only: SQLite has no server to
restart (a busy or locked file is the store's `is_transient` too, tested in test_store).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.errors import DeliveryError
from newsletter.sending.committer import JournalWriter
from newsletter.store import StorageError, connect, connect_waiting, exists, transaction
from newsletter.store.connection import DatabaseError, is_transient
from newsletter.store.journal import Journal
from tests.conftest import own_server
from tests.support.db import query, scalar, write
from tests.support.postgres import Cluster
from tests.support.sending import addresses, subscriber_csv
from tests.support.smtpd import Server
from tests.test_workers import office, start

pytestmark = pytest.mark.timeout(120)

LISTED = 60
RESTART_AT = 20  # the relay restarts the database while it holds this message


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this module's own, which its tests restart (the suite runs a file
    per process, so they run one after another)."""
    yield from own_server()


@pytest.fixture
def url(cluster: Cluster) -> str:
    """A fresh database that keeps every commit through a crash, as a real server does (the
    test servers run with synchronous_commit off, which loses the last commits in a crash)."""
    made = cluster.new_database()
    write(made, f'ALTER DATABASE "{made.rsplit("/", 1)[1]}" SET synchronous_commit = on')
    return made


@pytest.mark.parametrize("workers", [(), ("--workers", "2", "--lease", "5")], ids=["one-process", "two-workers"])
def test_a_database_restart_mid_send_loses_nobody_and_doubles_nobody(
    project: Path, cluster: Cluster, url: str, workers: tuple[str, ...]
) -> None:
    listed = addresses(LISTED, "example.org")
    subscriber_csv(project / "subscribers.csv", listed)
    seen: list[int] = []

    def restart_once(recipients: tuple[str, ...]) -> None:
        seen.append(len(recipients))
        if len(seen) == RESTART_AT:
            cluster.restart()  # the relay holds this message meanwhile: the send is mid-flight

    with Server(delay=0.01) as server:
        server.handler.inspect = restart_once
        office(project, url, server.port, connections=2)
        send = start(project, "send", "spring-2018", "--yes", "--allow-missing-images", *workers)
        out, err = send.communicate(timeout=100)
    assert len(seen) >= RESTART_AT, f"the send ended before the restart: {out} {err}"
    assert send.returncode == 0, err
    got = Counter(server.handler.recipients())
    assert max(got.values()) == 1, "nobody gets two copies"
    rows = {email: state for email, state in query(url, "SELECT email, state FROM deliveries")}
    unknown = {email for email, state in rows.items() if state == "sending"}
    assert not [e for e, state in rows.items() if state == "pending"], "nobody left behind"
    assert set(got) | unknown == set(listed), "each recipient got it or is reported unknown"
    sent = {e for e, state in rows.items() if state == "sent"}
    assert sent == set(got) - unknown, "sent means the relay has it"
    assert all(e in out for e in unknown), out
    assert f"{len(sent)} sent" in out, out


def test_a_connection_outlives_a_restart_of_its_server(cluster: Cluster, url: str) -> None:
    """The statement that meets the dead connection fails as transient; the next one, outside a
    transaction, runs on a new connection. Inside a transaction it fails as transient too: the
    caller starts the transaction again, never halfway through on a connection that never saw it begin."""
    db = connect(url)
    try:
        cluster.restart()
        with pytest.raises(DatabaseError) as first:
            db.execute("SELECT 1")
        assert is_transient(first.value)
        assert db.execute("SELECT 1").scalar_one() == 1
        with pytest.raises(DatabaseError) as inside, transaction(db):
            cluster.restart()
            with contextlib.suppress(DatabaseError):
                db.execute("SELECT 1")
            db.execute("SELECT 1")
        assert is_transient(inside.value)
        cluster.stop("immediate")
        try:
            with pytest.raises(DatabaseError) as refused:
                db.execute("SELECT 1")
            assert is_transient(refused.value), "a server that refuses connections while it restarts"
        finally:
            cluster.start_again()
        with transaction(db):
            assert db.execute("SELECT 1").scalar_one() == 1
    finally:
        db.close()


def test_a_database_gone_longer_than_the_patience_stops_the_send_in_one_line(cluster: Cluster, url: str) -> None:
    """The journal's writer waits out an outage (tries again on a new connection, backing off)
    for its patience in all, then fails in one line; nothing it was given is committed meanwhile
    or lost: the same writes commit once the database is back."""
    issue, email = "spring-2018", "reader@example.org"
    journal = Journal(url)
    writer = JournalWriter(url, patience=1.0)
    try:
        journal.prepare(issue, [email], [])
        journal.mark_sending(issue, email, "<1@example.org>")
        asyncio.run(writer.commit(journal))  # the writer now holds a connection
        journal.settle(issue, email, "sent", "250 queued")
        cluster.stop("immediate")
        try:
            with pytest.raises(DeliveryError) as gone:
                asyncio.run(writer.commit(journal))
        finally:
            cluster.start_again()
        assert "\n" not in str(gone.value) and "did not answer for 1 s" in str(gone.value), gone.value
        assert scalar(url, "SELECT state FROM deliveries") == "sending", "nothing marked sent meanwhile"
        assert len(journal.buffered()) == 1, "the outcome is kept for the next commit"
        asyncio.run(writer.commit(journal))
        assert scalar(url, "SELECT state FROM deliveries") == "sent"
    finally:
        writer.close()
        journal.close()


def test_a_process_joining_a_send_waits_for_a_server_that_is_down_then_opens_it(cluster: Cluster, url: str) -> None:
    """A worker that starts while the server restarts (as `send --workers` starts its workers,
    or another host's `newsletter worker`) waits it out, as the send's other processes do,
    where a plain `connect` fails at once; the wait is for the outage, and a database that will
    never answer (a name the server does not have) fails at once, not after the patience."""
    write(url, "SELECT 1")  # the test's database exists and has the store's tables
    cluster.stop("fast")
    opened: dict[str, object] = {}
    started = threading.Event()

    def join() -> None:
        started.set()
        try:
            opened["exists"] = exists(url, patience=90)
            with connect_waiting(url, patience=90) as db:
                opened["answer"] = db.execute("SELECT 1").scalar_one()
        except Exception as exc:  # reported below, not lost in the thread
            opened["error"] = exc

    joining = threading.Thread(target=join)
    try:
        with pytest.raises(StorageError):
            connect(url)
        joining.start()
        started.wait(10)
        joining.join(1.0)
        assert joining.is_alive(), f"gave up while the server was down: {opened}"
    finally:
        cluster.start_again()
    joining.join(60)
    assert opened == {"exists": True, "answer": 1}
    missing = url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StorageError):
        connect_waiting(missing, patience=600)  # the test's timeout (120 s) says it did not wait
    assert exists(missing, patience=600) is False
