"""Pacing that tells throttling from faults: outcomes against a misbehaving aiosmtpd relay,
and the concurrency window's feedback rules (no timings: those live in the benchmark).

The attempts a recipient used up are the journal's, so that test runs on both backends; the
others are about the relay and the window and keep the default SQLite journal.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from newsletter.delivery.pacing import Window
from newsletter.store import Location
from tests.support.db import scalar
from tests.support.sending import addresses, relay_settings
from tests.support.smtpd import Server
from tests.test_smtp_delivery import send

pytestmark = pytest.mark.timeout(90)


def test_sporadic_faults_and_dropped_connections_deliver_everybody_once(project: Path) -> None:
    emails = addresses(150)
    with Server() as server:
        server.faults(temporary=0.05, drop=0.01, seed=3)
        report, rows = send(project, relay_settings(server.port, connections=4, retry_delay=0.01), emails)
    got = Counter(server.handler.recipients())
    assert set(got) == set(emails) and max(got.values()) == 1
    assert report.failed == 0 and report.retried > 0
    assert {state for state, _ in rows.values()} == {"sent"}


def test_a_relay_refusing_everything_for_a_while_is_waited_for(project: Path) -> None:
    """Every command answered 421 at first: with 2 attempts a recipient, counting those
    replies as attempts would fail everybody; the send waits instead and nobody fails."""
    emails = addresses(20)
    with Server() as server:
        server.refuse_everything(1.0)
        report, rows = send(
            project, relay_settings(server.port, connections=4, retry_delay=0.05, retry_attempts=2), emails
        )
    assert sorted(server.handler.recipients()) == emails
    assert report.failed == 0 and report.sent == 20 and report.retried > 0
    assert {state for state, _ in rows.values()} == {"sent"}


def test_a_recipients_own_temporary_failure_still_uses_up_its_attempts(project: Path, database: Location) -> None:
    emails = addresses(6)
    with Server() as server:
        server.handler.refuse[emails[2]] = "452 4.2.2 mailbox full"
        smtp = relay_settings(server.port, retry_attempts=3, retry_delay=0.01)
        report, rows = send(project, smtp, emails, database)
    assert rows[emails[2]][0] == "failed" and report.sent == 5
    assert scalar(database, "SELECT attempts FROM deliveries WHERE email = ?", (emails[2],)) == 3


def test_a_failed_cohort_lowers_the_window_and_successes_raise_it_step_by_step() -> None:
    window = Window(4, pause=30.0)
    assert window.fault() is False, "a lone fault is not a cluster"
    window.succeeded()
    assert window.limit == 4 and not window.throttled
    for _ in range(4):
        window.fault()
    assert window.throttled and window.limit == 1, "a whole cohort in a row: the relay is throttling"
    window.resume_at = 0.0  # the pause is over
    limits = []
    for _ in range(10):
        window.succeeded()
        limits.append(window.limit)
    assert limits[:6] == [2, 2, 3, 3, 3, 4] and max(limits) == 4


def test_faults_in_a_cluster_do_not_count_as_attempts() -> None:
    window = Window(2, pause=30.0)
    assert window.fault() is False
    assert window.fault() is True
    assert window.throttled and window.fault() is True


def test_one_connections_lone_fault_is_not_a_cluster() -> None:
    window = Window(1, pause=30.0)
    assert window.fault() is False and not window.throttled
    window.succeeded()
    window.fault()
    assert window.fault() is True and window.throttled
