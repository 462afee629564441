"""The send loop against a real aiosmtpd server: pooling, pacing, injected failures, relays.

The tests whose subject is what the journal records (message ids, failed, pending, unknown)
run on SQLite and a real PostgreSQL server (`database`); those about the wire (pacing,
pipelining, connections, relays, each injected failure) keep the default SQLite journal: the
database plays no part in them beyond what the others already check on both.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from pathlib import Path

import pytest

from newsletter.delivery.relays import SmtpSettings
from newsletter.delivery.smtp import SmtpBackend
from newsletter.sending.plan import plan
from newsletter.sending.report import SendReport
from newsletter.sending.run import loop_options, send_issue
from newsletter.store import Location
from newsletter.store.journal import Journal
from tests.support.db import query
from tests.support.sending import addresses, audience, composed_issue, relay_settings
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(60)


def send(
    project: Path, smtp: SmtpSettings, emails: list[str], location: Location | None = None
) -> tuple[SendReport, dict[str, tuple[str, str]]]:
    """Send to `emails` with the journal at `location` (default: a SQLite file in the project)."""
    location = location or project / "journal.sqlite3"
    composed = composed_issue(project)
    with Journal(location) as journal:
        planned = plan(journal, composed.issue.slug, audience(emails))
        report = send_issue(
            composed, planned, SmtpBackend(smtp, composed.settings.from_address), journal, loop_options(smtp)
        )
    return report, journal_rows(location)


def paced_send(project: Path, smtp: SmtpSettings, emails: list[str]) -> float:
    """Like `send`, and returns the monotonic time at which the sending itself started."""
    composed = composed_issue(project)
    with Journal(project / "journal.sqlite3") as journal:
        planned = plan(journal, composed.issue.slug, audience(emails))
        started = time.monotonic()
        send_issue(composed, planned, SmtpBackend(smtp, composed.settings.from_address), journal, loop_options(smtp))
    return started


def journal_rows(location: Location) -> dict[str, tuple[str, str]]:
    rows = query(location, "SELECT email, state, coalesce(last_reply, '') FROM deliveries")
    return {email: (state, reply) for email, state, reply in rows}


def test_many_messages_over_a_few_persistent_connections(project: Path, database: Location) -> None:
    emails = addresses(60)
    with Server() as server:
        report, rows = send(project, relay_settings(server.port, connections=4), emails, database)
    received = server.handler.received
    assert sorted(server.handler.recipients()) == emails
    assert report.sent == 60 and report.failed == 0
    connections = Counter(message.peer for message in received)
    assert len(connections) == 4, "each worker keeps one connection"
    assert min(connections.values()) >= 5, "every connection carries many messages"
    assert {state for state, _ in rows.values()} == {"sent"}
    ids = dict(query(database, "SELECT email, message_id FROM deliveries"))
    assert {ids[m.recipients[0]] for m in received} == {m.message_id for m in received}
    assert all(m.mail_from == "news@stockport-office.test" for m in received)


def test_the_rate_limit_holds_across_connections(project: Path) -> None:
    """Lower bounds only, so a busy machine (which only delays messages) cannot fail it: the
    k-th message cannot reach the relay before k intervals of 1/10 s from the start, whichever
    of the 4 connections carries it. Without one pacer for all connections they would come 4x early."""
    with Server() as server:
        started = paced_send(project, relay_settings(server.port, connections=4, rate=10.0), addresses(20))
    times = sorted(m.at for m in server.handler.received)
    assert len(times) == 20
    early = [k for k, at in enumerate(times) if at - started < k / 10 * 0.99]
    assert not early, f"messages {early} came faster than 10 a second"


def test_batches_pause_between_them(project: Path) -> None:
    with Server() as server:
        smtp = relay_settings(server.port, connections=2, batch_size=5, batch_pause=1.0)
        started = paced_send(project, smtp, addresses(10))
    times = sorted(m.at for m in server.handler.received)
    # A lower bound (a busy machine only delays messages): the sixth waits for the pause after five.
    assert len(times) == 10 and times[5] - started >= 1.0


def test_reconnects_after_max_per_connection(project: Path) -> None:
    with Server() as server:
        send(project, relay_settings(server.port, connections=1, max_per_connection=3), addresses(10))
    peers = Counter(m.peer for m in server.handler.received)
    assert len(peers) == 4 and max(peers.values()) == 3


INJECTED = [
    ("MAIL", "421 4.7.0 too many messages, slow down"),
    ("MAIL", "451 4.3.0 local error"),
    ("RCPT", "421 4.7.0 closing"),
    ("RCPT", "451 4.7.1 greylisted"),
    ("DATA", "421 4.3.2 shutting down"),
    ("DATA", "451 4.3.0 try later"),
    ("DATA", "drop"),
    ("MAIL", "drop"),
    ("MAIL", ("sleep", 60.0)),  # never answered in time: the client gives up after its timeout and hangs up
]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
@pytest.mark.parametrize(("command", "action"), INJECTED, ids=[f"{c}-{a}" for c, a in INJECTED])
def test_temporary_failures_are_retried_and_everyone_gets_it_once(
    project: Path, command: str, action: str | tuple[str, float], pipelining: bool
) -> None:
    emails = addresses(12)
    with Server(pipelining=pipelining) as server:
        server.inject(command, action, action)
        server.handler.refuse[emails[5]] = "550 5.1.1 no such mailbox"
        report, rows = send(project, relay_settings(server.port, connections=2, timeout=3.0), emails)
    got = Counter(server.handler.recipients())
    assert set(got) == set(emails) - {emails[5]}
    assert max(got.values()) == 1, "nobody gets it twice"
    assert rows[emails[5]] == ("failed", f"127.0.0.1:{server.port}: 550 5.1.1 no such mailbox")
    assert report.sent == 11 and report.failed == 1 and report.retried >= 1
    assert all(state == "sent" for email, (state, _) in rows.items() if email != emails[5])


def test_a_reply_refusing_the_message_after_the_dot_is_retried(project: Path) -> None:
    with Server() as server:
        server.handler.after_data.extend(["451 4.3.0 queue full", "452 4.3.1 out of space"])
        report, _ = send(project, relay_settings(server.port), addresses(6))
    assert sorted(server.handler.recipients()) == addresses(6)
    assert report.retried == 2


def test_a_recipient_that_keeps_failing_temporarily_gives_up(project: Path, database: Location) -> None:
    emails = addresses(4)
    with Server() as server:
        server.handler.refuse[emails[0]] = "452 4.2.2 mailbox full"
        report, rows = send(project, relay_settings(server.port, retry_attempts=3), emails, database)
    assert rows[emails[0]][0] == "failed" and "452 4.2.2 mailbox full" in rows[emails[0]][1]
    assert report.sent == 3


def test_sender_refused_stops_the_send_with_nothing_marked_sent(project: Path, database: Location) -> None:
    with Server() as server:
        server.inject("MAIL", *["550 5.7.1 sender not allowed"] * 20)
        report, rows = send(project, relay_settings(server.port), addresses(20), database)
    assert report.error is not None
    assert str(report.error) == f"127.0.0.1:{server.port}: 550 5.7.1 sender not allowed (sender refused)"
    assert server.handler.received == []
    assert {state for state, _ in rows.values()} == {"pending"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_relays_share_the_load_and_a_dead_one_leaves_the_rotation(project: Path) -> None:
    with Server() as first, Server() as second:
        send(project, relay_settings(first.port, second.port, connections=4), addresses(40))
        assert first.handler.received and second.handler.received
        assert len(first.handler.received) + len(second.handler.received) == 40
    with Server() as alive:
        dead = free_port()
        report, _ = send(project, relay_settings(dead, alive.port, connections=2), addresses(30, "others.test"))
    assert len(alive.handler.received) == 30 and report.sent == 30


def test_no_relay_reachable_stops_with_host_and_port(project: Path) -> None:
    port = free_port()
    report, rows = send(project, relay_settings(port), addresses(3))
    assert report.error is not None and f"127.0.0.1:{port}: cannot connect" in str(report.error)
    assert {state for state, _ in rows.values()} == {"pending"}


def test_no_reply_after_the_message_leaves_that_recipient_unknown(project: Path, database: Location) -> None:
    emails = addresses(5)
    with Server() as server:
        server.handler.after_data.append(("sleep", 60.0))  # never answered: held until the client hangs up
        report, rows = send(project, relay_settings(server.port, connections=1, timeout=3.0), emails, database)
        first = emails[0]
    assert report.unknown == [first] and rows[first][0] == "sending"
    assert "no reply within 3 s after the message was sent" in rows[first][1]
    got = Counter(server.handler.recipients())
    assert got[first] <= 1, "not retried"
    assert all(got[e] == 1 for e in emails[1:])


def test_lines_starting_with_a_dot_arrive_unchanged(project: Path) -> None:
    data = b"To: a@constituents.test\r\nSubject: dots\r\n\r\n.first\r\nmiddle\r\n..second\r\n.\r\nlast\r\n"

    async def deliver(port: int) -> str:
        from newsletter.mail.message import OutgoingMessage

        backend = SmtpBackend(relay_settings(port), "news@stockport-office.test")
        session = await backend.open()
        reply = await session.deliver(OutgoingMessage("a@constituents.test", "<x@y>", data), _nothing)
        await session.close()
        return reply

    async def _nothing() -> None:
        return None

    with Server() as server:
        reply = asyncio.run(deliver(server.port))
    assert reply.endswith("250 2.0.0 queued")
    assert server.handler.received[0].data == data


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_envelope_goes_in_one_write_only_when_the_relay_offers_pipelining(project: Path, pipelining: bool) -> None:
    """With PIPELINING the relay sees MAIL, RCPT and DATA arrive before it answered MAIL."""
    with Server(pipelining=pipelining) as server:
        server.inject("MAIL", ("sleep", 0.3))  # MAIL is answered late: RCPT and DATA are already waiting
        report, _ = send(project, relay_settings(server.port, connections=1), addresses(3))
        early = server.early_commands
    assert report.sent == 3 and sorted(server.handler.recipients()) == addresses(3)
    assert (early > 0) == pipelining


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_the_next_envelope_follows_the_body_before_its_reply(project: Path, pipelining: bool) -> None:
    """Two lanes share a connection: with PIPELINING the second message's MAIL, RCPT and DATA
    are on the wire while the first body's reply is still awaited (one round trip a message)."""
    with Server(pipelining=pipelining) as server:
        server.handler.after_data.append(("sleep", 2.0))  # the other lane has 2 s to write on (timeout: 5 s)
        report, _ = send(project, relay_settings(server.port, connections=1), addresses(4))
        early = server.handler.early_after_data
    assert report.sent == 4 and sorted(server.handler.recipients()) == addresses(4)
    assert len({m.peer for m in server.handler.received}) == 1, "both lanes on one connection"
    assert (early > 0) == pipelining


class _RecordingSocket:
    """The connection's real socket, with a record of the options set on it."""

    def __init__(self, real: socket.socket) -> None:
        self.real = real
        self.options: list[tuple[int, int]] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option))
        self.real.setsockopt(level, option, value)


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
def test_replies_are_acknowledged_at_once_on_every_read() -> None:
    """A relay with Nagle on holds its second small reply until the first is acknowledged; the
    kernel would delay that ACK up to 40 ms while we wait for the rest of the envelope's
    replies (a fifth of the speed on loopback, docs/benchmarks.md), so every read asks for an
    immediate ACK, and Nagle is off on our side."""
    data = b"To: a@constituents.test\r\nSubject: acks\r\n\r\nbody\r\n"

    async def deliver(port: int) -> tuple[int, int, int]:
        from newsletter.mail.message import OutgoingMessage

        backend = SmtpBackend(relay_settings(port), "news@stockport-office.test")
        session = await backend.open()
        wire = session.connection.wire
        assert wire.socket is not None
        nodelay = wire.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        recorder = _RecordingSocket(wire.socket)
        wire.socket = recorder  # type: ignore[assignment]
        reads = 0
        original = wire.data_received

        def counted(chunk: bytes) -> None:
            nonlocal reads
            reads += 1
            original(chunk)

        wire.data_received = counted  # type: ignore[method-assign]
        for _ in range(3):
            await session.deliver(OutgoingMessage("a@constituents.test", "<x@y>", data), _nothing)
        await session.close()
        quick = recorder.options.count((socket.IPPROTO_TCP, socket.TCP_QUICKACK))
        return nodelay, reads, quick

    async def _nothing() -> None:
        return None

    with Server() as server:
        nodelay, reads, quick = asyncio.run(deliver(server.port))
    assert len(server.handler.received) == 3
    assert nodelay != 0
    assert reads >= 6 and quick >= reads
