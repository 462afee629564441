"""A slow journal commit holds up only the workers waiting for it, never the other connections.

The send loop commits the journal in its own writer thread (`sending.committer`). Here the
commit is made slow on purpose the way it is in life: another connection holds the database's
write lock (SQLite's `BEGIN IMMEDIATE`; on PostgreSQL the store's writer lock), so the journal's
commit waits. While it waits, a reply the relay held back is released, and the send must read
it and count the recipient as sent: progress judged by events, not by a clock. When the commit
ran on the event loop, nothing was read until the lock was released. Against a real aiosmtpd
relay and a real database on each backend; afterwards nobody is sent twice and nobody is lost.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from newsletter.delivery.smtp import SmtpBackend
from newsletter.sending.plan import plan
from newsletter.sending.report import SendReport
from newsletter.sending.run import loop_options, send_issue
from newsletter.store import connect, transaction
from newsletter.store.journal import Journal
from tests.support.db import query
from tests.support.sending import addresses, audience, composed_issue, relay_settings
from tests.support.smtpd import PATIENCE, HeldReplies, Server, wait_for

pytestmark = pytest.mark.timeout(120)
SENDER = "news@stockport-office.test"


def commit_waiting(location: Path | str) -> bool:
    """PostgreSQL only: some session waits for the store's writer lock (the journal's commit)."""
    if isinstance(location, Path):
        return True
    rows = query(location, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    return bool(rows[0][0])


def hold_the_lock_meanwhile(
    database: Path | str, handler: HeldReplies, report: SendReport, seen: dict[str, bool | str]
) -> None:
    """In a thread of its own (the send runs in the main thread, for its signal handlers): once
    the held recipient's body is at the relay, hold the write lock until the send has asked for
    a commit and that commit waits; then release the held reply and see whether it is read."""
    try:
        wait_for(handler.arrived.is_set, "the held recipient's body reached the relay")
        # Its `sending` mark is committed (the body went out). Now commits get slow:
        with connect(database) as other, transaction(other):
            asked = len(handler.rcpts)
            # The other lanes go on and ask for a commit (their next envelope is on the wire just
            # before they wait for it), which now waits for the lock.
            wait_for(lambda: len(handler.rcpts) > asked, "a worker asked for a commit")
            wait_for(lambda: commit_waiting(database), "the journal's commit waits for the lock")
            sent = report.sent
            handler.release.set()
            deadline = time.monotonic() + PATIENCE
            while report.sent == sent and time.monotonic() < deadline:
                time.sleep(0.01)
            seen["read while the commit waited"] = report.sent > sent
    except AssertionError as exc:
        seen["read while the commit waited"] = str(exc)
    finally:
        handler.release.set()


def test_a_slow_commit_does_not_stop_other_replies_being_read(project: Path, database: Path | str) -> None:
    emails = addresses(40)
    composed = composed_issue(project)
    handler = HeldReplies({emails[1]})
    seen: dict[str, bool | str] = {}
    with Server() as server, Journal(database) as journal:
        server.handler = handler
        smtp = relay_settings(server.port, connections=2)
        planned = plan(journal, composed.issue.slug, audience(emails))
        report = planned.report
        helper = threading.Thread(target=hold_the_lock_meanwhile, args=(database, handler, report, seen))
        helper.start()
        try:
            send_issue(composed, planned, SmtpBackend(smtp, SENDER), journal, loop_options(smtp))
        finally:
            handler.release.set()
            helper.join(PATIENCE * 4)
    assert seen == {"read while the commit waited": True}, "the held reply was not read while the commit waited"
    got = Counter(handler.recipients())
    assert max(got.values()) == 1, "nobody twice"
    assert set(got) == set(emails), "nobody lost"
    assert report.sent == len(emails)
    states = dict(query(database, "SELECT email, state FROM deliveries"))
    assert set(states.values()) == {"sent"} and len(states) == len(emails)
