"""Interrupted sends: SIGKILL halfway then a re-run, and SIGINT/SIGTERM with a clean summary.
The real CLI runs in a subprocess; the relay is a real aiosmtpd server in this process.

The kill test, whose subject is what the journal knows after a crash, runs on SQLite and
PostgreSQL (`on_each_backend`); the signal tests are about the process and keep SQLite (each
sends a few hundred messages twice)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.errors import NewsletterError
from newsletter.store import Location, exists
from newsletter.store.connection import DatabaseError
from tests.conftest import REAL_SETTINGS
from tests.support.db import query
from tests.support.sending import addresses, database_env, subscriber_csv
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(90)
COUNT = 300


@pytest.fixture
def slow_server() -> Iterator[Server]:
    with Server(delay=0.004) as server:  # a relay a few ms away: the send takes a few seconds
        yield server


def command(project: Path, server: Server, *extra: str) -> tuple[list[str], dict[str, str]]:
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
            "SMTP_CONNECTIONS": "3",
        }
    )
    args = [
        sys.executable,
        "-m",
        "newsletter",
        "send",
        "spring-2018",
        "--subscribers",
        "list.csv",
        "--yes",
        "--allow-missing-images",
        *extra,
    ]
    return args, env


def location(project: Path) -> Location:
    return os.environ.get("NEWSLETTER_DATABASE") or project / ".newsletter" / "newsletter.sqlite3"


def journal_states(project: Path) -> Counter[str]:
    where = location(project)
    try:
        if not exists(where):  # never created by this look: the send creates it
            return Counter()
        return Counter(dict(query(where, "SELECT state, count(*) FROM deliveries GROUP BY state")))
    except (DatabaseError, NewsletterError):  # created a moment ago, the tables not yet
        return Counter()


def start_and_wait(project: Path, server: Server, sent: int) -> subprocess.Popen[str]:
    args, env = command(project, server)
    process = subprocess.Popen(args, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60  # a cap for a busy machine (start-up and rendering come first)
    while journal_states(project)["sent"] < sent:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.02)
    return process


@pytest.mark.usefixtures("on_each_backend")
def test_killed_halfway_then_run_again_everyone_gets_it_once(project: Path, slow_server: Server) -> None:
    emails = addresses(COUNT, "example.net")
    subscriber_csv(project / "list.csv", emails)
    process = start_and_wait(project, slow_server, COUNT // 3)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    killed_at = len(slow_server.handler.received)
    assert killed_at < COUNT, "killed halfway, not after the end"

    args, env = command(project, slow_server)
    rerun = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    unknown = {email for (email,) in query(location(project), "SELECT email FROM deliveries WHERE state = 'sending'")}
    assert len(unknown) <= 3 + 3 * 4, "only what was in flight is uncertain"
    for email in unknown:
        assert f"unknown {email}" in rerun.stdout
    got = Counter(slow_server.handler.recipients())
    assert all(got[e] == 1 for e in emails if e not in unknown), "every known recipient exactly once"
    assert all(got[e] <= 1 for e in unknown), "an unknown recipient is not resent"
    assert journal_states(project)["sent"] == COUNT - len(unknown)

    resend = subprocess.run(
        [*args, "--resend-unknown"], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert resend.returncode == 0 and journal_states(project)["sent"] == COUNT


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_send_finishes_in_flight_and_resumes(
    project: Path, slow_server: Server, signum: int, code: int
) -> None:
    emails = addresses(COUNT, "example.net")
    subscriber_csv(project / "list.csv", emails)
    process = start_and_wait(project, slow_server, 30)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == code, stderr
    assert f"interrupted by {signal.Signals(signum).name}" in stdout and "Traceback" not in stderr
    states = journal_states(project)
    assert states["sending"] == 0, "in-flight messages were finished and committed"
    assert states["sent"] == len(slow_server.handler.received) < COUNT
    # The summary says how many are left and the exact command that sends to them.
    left = re.search(r"([\d,]+) still to send: run `(newsletter send [^`]+)` to continue", stdout)
    assert left is not None, stdout
    assert int(left.group(1).replace(",", "")) == COUNT - states["sent"]

    _, env = command(project, slow_server)
    rerun = subprocess.run(
        [sys.executable, "-m", *shlex.split(left.group(2))],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert Counter(slow_server.handler.recipients()) == Counter(emails)
