"""One-click unsubscribes arriving together share one commit (web/group_commit.py), through the
real HTTP server on each backend: all of a concurrent burst are recorded; none answers before
the commit holding it; a group whose commit fails answers 503 to each and records nothing.

The tests hold the database's write lock from a connection of their own (on SQLite `BEGIN
IMMEDIATE`, on PostgreSQL the writers' advisory lock: `store.transaction` either way), so the
server's commit cannot happen until the test lets it: what is asserted while the lock is held
does not depend on timing, and every wait is bounded.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from newsletter.audience.tokens import make_token
from newsletter.store import connect, transaction
from newsletter.store.connection import engine
from newsletter.web.app import WebApp
from newsletter.web.server import THREADS
from tests.support.db import query, scalar, write
from tests.support.web import LIST_ID, SECRET, over_http, web_app

GROUP = THREADS  # one request per server thread: every one of them can be waiting at once
PATH = "/newsletter/unsubscribe"


@pytest.fixture
def app(tmp_path: Path, database: Path | str) -> WebApp:
    return web_app(tmp_path, database)


def address(n: int) -> str:
    return f"reader{n}@example.org"


def post(base: str, email: str, app: WebApp) -> tuple[int, str, bool]:
    """One one-click POST: its status, its Retry-After, and whether the suppression was in the
    database (read on a connection of our own) the moment the answer arrived."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        body = b"List-Unsubscribe=One-Click"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "provider " + "x" * 280}
        connection.request("POST", f"{PATH}?token={make_token(email, LIST_ID, SECRET)}", body, headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    there = scalar(app.settings.journal_path, "SELECT count(*) FROM suppressions WHERE email = ?", (email,))
    return response.status, response.getheader("Retry-After") or "", there == 1


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """A bounded wait for something the test cannot be told of directly."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.005)


@contextmanager
def write_lock(location: Path | str) -> Iterator[None]:
    """The database's write lock, held by the test until the block ends."""
    with connect(location) as db, transaction(db):
        yield


def suppressed(app: WebApp) -> list[str]:
    return [row[0] for row in query(app.settings.journal_path, "SELECT email FROM suppressions ORDER BY email")]


@contextmanager
def held_burst(app: WebApp, emails: list[str]) -> Iterator[list[Future[tuple[int, str, bool]]]]:
    """The first address posted alone (it becomes the committer and waits for the lock), then the
    rest, which queue behind it; yields once all are waiting, the lock still held. On leaving,
    the lock is released and the futures are the answers."""
    location = app.settings.journal_path
    with over_http(app, threads=THREADS) as base, ThreadPoolExecutor(len(emails)) as pool:
        with write_lock(location):
            futures = [pool.submit(post, base, emails[0], app)]
            wait_until(lambda: app.unsubscribes.pending() == 1, "the first request waits for the lock")
            futures += [pool.submit(post, base, email, app) for email in emails[1:]]
            wait_until(lambda: app.unsubscribes.pending() == len(emails), "every request waits")
            assert not [f for f in futures if f.done()], "a request answered before its commit"
            yield futures
        for future in futures:
            future.result(timeout=60)


def test_many_concurrent_one_click_posts_are_each_recorded(app: WebApp) -> None:
    emails = [address(n) for n in range(120)]
    with over_http(app, threads=THREADS) as base, ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda email: post(base, email, app), emails))
    assert [status for status, _, _ in answers] == [200] * len(emails)
    assert all(there for _, _, there in answers), "a 200 came before its suppression was committed"
    assert suppressed(app) == sorted(emails)
    events = query(
        app.settings.journal_path,
        "SELECT email, source, ip, user_agent FROM consent_events WHERE kind = 'unsubscribed' ORDER BY email",
    )
    assert [row[0] for row in events] == sorted(emails)
    assert {row[1:3] for row in events} == {("one-click (RFC 8058)", "127.0.0.1")}
    assert app.unsubscribes.commits <= len(emails)


def test_no_answer_before_its_commit_and_the_waiting_burst_is_one_commit(app: WebApp) -> None:
    emails = [address(n) for n in range(GROUP)]
    with held_burst(app, emails) as futures:
        assert suppressed(app) == []
    answers = [f.result() for f in futures]
    assert answers == [(200, "", True)] * GROUP  # each found its row committed when it was answered
    assert suppressed(app) == sorted(emails)
    # The first alone, then everyone who queued behind it in one transaction.
    assert (app.unsubscribes.commits, app.unsubscribes.largest) == (2, GROUP - 1)


def fail_after_first(app: WebApp, backend: str) -> None:
    """From the second suppression on, the database refuses for a reason that passes (the answer
    a busy or full database gets): on SQLite the file may not grow (SQLITE_FULL), on PostgreSQL
    a trigger raises a serialization failure (40001)."""
    location = app.settings.journal_path
    if backend == "sqlite":
        pooled = engine(location, pooled=True)  # the app's connections, opened on their first use

        @event.listens_for(pooled, "connect")
        def no_growth(dbapi: Any, _record: Any) -> None:
            cursor = dbapi.cursor()
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
            cursor.close()

        return
    write(
        location,
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF (SELECT count(*) FROM suppressions) >= 1 "
        "THEN RAISE EXCEPTION 'refused' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
    )
    write(location, "CREATE TRIGGER refuse BEFORE INSERT ON suppressions FOR EACH ROW EXECUTE FUNCTION refuse()")


def test_a_failing_group_commit_answers_503_to_each_and_records_nothing(app: WebApp, backend: str) -> None:
    fail_after_first(app, backend)
    emails = [address(n) for n in range(GROUP)]
    with held_burst(app, emails) as futures:
        pass
    first, *group = [f.result() for f in futures]
    assert first == (200, "", True)
    assert group == [(503, "60", False)] * (GROUP - 1)
    assert suppressed(app) == [emails[0]], "part of the failed group was recorded"
    unsubscribed = "SELECT count(*) FROM consent_events WHERE kind = 'unsubscribed'"
    assert scalar(app.settings.journal_path, unsubscribed) == 1
    assert (app.unsubscribes.commits, app.unsubscribes.largest) == (2, GROUP - 1)


def test_one_refused_unsubscribe_does_not_fail_the_rest_of_its_group(app: WebApp, backend: str) -> None:
    """A failure that is not "try again" may be one request's alone: the group is written again
    one by one, so the others are recorded and answered 200, and only that one gets 500."""
    refused = address(3)
    if backend == "sqlite":
        write(
            app.settings.journal_path,
            f"CREATE TRIGGER refuse BEFORE INSERT ON suppressions WHEN NEW.email = '{refused}' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
    else:
        write(
            app.settings.journal_path,
            f"CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.email = '{refused}' "
            "THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        )
        write(
            app.settings.journal_path,
            "CREATE TRIGGER refuse BEFORE INSERT ON suppressions FOR EACH ROW EXECUTE FUNCTION refuse()",
        )
    emails = [address(n) for n in range(GROUP)]
    with held_burst(app, emails) as futures:
        pass
    statuses = {email: f.result()[0] for email, f in zip(emails, futures, strict=True)}
    assert statuses == {email: 500 if email == refused else 200 for email in emails}
    assert suppressed(app) == sorted(e for e in emails if e != refused)
