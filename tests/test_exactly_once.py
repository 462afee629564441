"""Exactly once at the edges, against a real aiosmtpd relay and the real journal, on SQLite and a
real PostgreSQL server (the durability pragma is SQLite's own; the lanes test touches no journal).

RFC 5321 (4.1.1.4, 6.1): a relay may keep a message and its 250 never reach us. A recipient
whose final dot went out and whose reply was lost is "unknown", never sent again without
`--resend-unknown`; a connection lost before the body went out is only a retry. And every
recipient's `sending` state is committed before the relay accepts its body: the relay itself
reads the journal to check, so a send that skipped the commit fails every time, not by chance.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from newsletter.delivery.base import Uncertain
from newsletter.delivery.relays import SmtpSettings
from newsletter.delivery.smtp import SmtpBackend
from newsletter.errors import DeliveryError
from newsletter.mail.message import OutgoingMessage, wire_form
from newsletter.sending.plan import plan
from newsletter.sending.report import SendReport
from newsletter.sending.run import loop_options, send_issue
from newsletter.store import Location
from newsletter.store.journal import Journal
from tests.conftest import REAL_SETTINGS
from tests.support.db import query
from tests.support.sending import addresses, audience, composed_issue, database_env, relay_settings, subscriber_csv
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(90)
SENDER = "news@stockport-office.test"


def send(location: Location, project: Path, smtp: SmtpSettings, emails: list[str]) -> SendReport:
    composed = composed_issue(project)
    with Journal(location) as journal:
        planned = plan(journal, composed.issue.slug, audience(emails))
        return send_issue(composed, planned, SmtpBackend(smtp, SENDER), journal, loop_options(smtp))


def states(location: Location) -> dict[str, str]:
    return dict(query(location, "SELECT email, state FROM deliveries"))


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_a_relay_that_keeps_the_message_and_loses_its_reply_gives_nobody_two_copies(
    project: Path, database: Location, pipelining: bool
) -> None:
    """The issue's measurement: 80 recipients, the relay keeps every message but closes the
    connection instead of replying for 15% of them (12). Before, 13 of 80 got two copies."""
    emails = addresses(80)
    lost = set(random.Random(18).sample(emails, 12))
    with Server(pipelining=pipelining) as server:
        server.handler.close_after_storing = set(lost)
        report = send(database, project, relay_settings(server.port, connections=2), emails)
    got = Counter(server.handler.recipients())
    assert max(got.values()) == 1, f"two copies: {sorted(e for e, n in got.items() if n > 1)}"
    assert set(got) == set(emails), "every recipient received once, the unknown ones included"
    assert sorted(report.unknown) == sorted(lost)
    journal = states(database)
    assert {e for e, state in journal.items() if state == "sending"} == lost
    # The other lane's envelope was on the dropped connection behind the lost body: not sent, so retried.
    assert {e for e, state in journal.items() if state == "sent"} == set(emails) - lost
    assert report.sent == 68 and report.failed == 0


def test_a_lane_cut_off_by_the_other_lane_after_its_final_dot_is_unknown(project: Path) -> None:
    """Two lanes pipeline on one connection. The first lane's body is out and its reply on the
    way when the second lane gives the connection up (its journal commit failed): the first
    lane's reply is lost with the connection, so its recipient is unknown, not retried."""
    first, second = "first@constituents.test", "second@constituents.test"

    def message(recipient: str) -> OutgoingMessage:
        data = f"To: {recipient}\r\nSubject: lanes\r\n\r\nbody\r\n".encode("ascii")
        return OutgoingMessage(recipient, f"<{recipient}>", data, wire_form(data))

    async def nothing() -> None:
        return None

    async def journal_down() -> None:
        raise DeliveryError("journal.sqlite3: cannot write the journal: disk I/O error")

    async def deliver(port: int) -> list[str | BaseException]:
        backend = SmtpBackend(relay_settings(port, connections=1, timeout=30.0), SENDER)
        lane_a, lane_b = await backend.open(), await backend.open()
        assert lane_a.connection is lane_b.connection, "two lanes of one connection"
        try:
            return await asyncio.gather(
                lane_a.deliver(message(first), nothing),
                lane_b.deliver(message(second), journal_down),
                return_exceptions=True,
            )
        finally:
            await lane_a.close()
            await lane_b.close()

    with Server() as server:
        server.handler.hold_after_storing = {first}  # kept; the 250 would come only after the others
        outcome_a, outcome_b = asyncio.run(deliver(server.port))
    assert isinstance(outcome_b, DeliveryError)
    assert isinstance(outcome_a, Uncertain), outcome_a
    assert "connection lost after the message was sent" in outcome_a.reply
    assert server.handler.recipients() == [first]


def test_a_connection_lost_before_the_body_is_a_retry_not_unknown(project: Path, database: Location) -> None:
    """The relay drops the connection at DATA, before its 354: no body went out, so those
    recipients are sent again and nobody is left unknown."""
    emails = addresses(10)
    with Server() as server:
        server.inject("DATA", "drop", "drop")
        report = send(database, project, relay_settings(server.port, connections=1), emails)
    assert report.unknown == [] and report.retried >= 2
    assert Counter(server.handler.recipients()) == Counter(emails)
    assert set(states(database).values()) == {"sent"}


def test_a_connection_dropped_after_the_whole_body_was_written_is_unknown(project: Path, database: Location) -> None:
    """The relay answers 354, reads a few lines of the message and closes. The client had written
    the whole message, final dot included, and cannot tell how much arrived: unknown."""
    emails = addresses(6)
    with Server() as server:
        server.inject("DATA", "drop-mid-body")
        report = send(database, project, relay_settings(server.port, connections=1), emails)
    assert len(report.unknown) == 1
    (unknown,) = report.unknown
    assert Counter(server.handler.recipients()) == Counter(e for e in emails if e != unknown)
    assert states(database) == {e: "sending" if e == unknown else "sent" for e in emails}


def test_the_journal_commits_durably(project: Path) -> None:
    """A power cut must not lose a `sending` commit (the recipient would be sent again):
    synchronous=FULL (2), not NORMAL (1), on the journal's connection."""
    with Journal(project / ".newsletter" / "newsletter.sqlite3") as journal:
        assert journal.db.execute("PRAGMA synchronous").fetchone() == (2,)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_every_recipient_is_committed_as_sending_before_the_relay_accepts_its_body(
    project: Path, database: Location, pipelining: bool
) -> None:
    """The relay opens the project database read-only, apart from the send, and checks each
    recipient's row before it accepts the body. The periodic commit is set to a minute, so
    nothing but the commit awaited before DATA can have written the row by then."""
    emails = addresses(12)

    def inspect(recipients: tuple[str, ...]) -> str | None:
        for email in recipients:
            rows = query(database, "SELECT state FROM deliveries WHERE issue = 'spring-2018' AND email = ?", (email,))
            if rows != [("sending",)]:
                return f"{email} was {rows} when its body arrived"
        return None

    with Server(pipelining=pipelining) as server:
        server.handler.inspect = inspect
        report = send(database, project, relay_settings(server.port, connections=2, commit_interval=60.0), emails)
    assert server.handler.problems == []
    assert report.sent == 12 and sorted(server.handler.recipients()) == emails


def cli(project: Path, server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    if url := os.environ.get("NEWSLETTER_DATABASE"):  # put there by `on_each_backend`
        env.update(database_env(url))
    env.update(REAL_SETTINGS)
    env.update(
        {
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(server.port),
            "SMTP_SECURITY": "none",
            "SMTP_CONNECTIONS": "2",
            "SMTP_RETRY_DELAY": "0.05",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def test_status_lists_the_unknown_and_a_rerun_sends_them_only_when_asked(
    project: Path, on_each_backend: Location
) -> None:
    emails = addresses(20, "example.net")
    lost = {emails[3], emails[11], emails[17]}
    subscriber_csv(project / "list.csv", emails)
    send_args = ("send", "spring-2018", "--subscribers", "list.csv", "--yes", "--allow-missing-images")
    with Server() as server:
        server.handler.close_after_storing = set(lost)
        first = cli(project, server, *send_args)
        assert first.returncode == 0, first.stderr
        assert "17 sent" in first.stdout and "3 unknown" in first.stdout

        status = cli(project, server, "status", "spring-2018")
        assert status.returncode == 0, status.stderr
        listed = {line.split()[1] for line in status.stdout.splitlines() if line.strip().startswith("unknown ")}
        assert listed == lost

        again = cli(project, server, *send_args)
        assert again.returncode == 0, again.stderr
        assert Counter(server.handler.recipients()) == Counter(emails), "nobody sent twice, the unknown included"
        for email in lost:
            assert f"unknown {email}" in again.stdout

        server.handler.close_after_storing.clear()
        resend = cli(project, server, *send_args, "--resend-unknown")
        assert resend.returncode == 0, resend.stderr
    got = Counter(server.handler.recipients())
    assert {e for e, n in got.items() if n == 2} == lost, "only when asked does an unknown one get it again"
    assert set(states(on_each_backend).values()) == {"sent"}
