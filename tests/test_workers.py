"""Several workers, one send, each recipient once: real `newsletter send --workers N` and
`newsletter worker` processes, a real aiosmtpd relay, on SQLite and a real PostgreSQL server.

A second project folder with its own `.env` naming the same database is a second host. Leases
are short (`--lease`), lists small, and every wait is bounded: nothing asserts a duration.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REAL_SETTINGS
from tests.support.db import query
from tests.support.sending import addresses, subscriber_csv
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(180)


def office(root: Path, database: Path | str, port: int, connections: int = 1) -> Path:
    """A project's `.env`: the real settings, the test relay, and the shared database."""
    lines = {
        **REAL_SETTINGS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "SMTP_CONNECTIONS": str(connections),
        "NEWSLETTER_DATABASE": str(database),
    }
    (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in lines.items()), encoding="utf-8")
    return root


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "--project", str(root), *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: object, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def states(database: Path | str) -> dict[str, tuple[str, str]]:
    """email -> (state, claimed_by) of the send's rows."""
    rows = query(database, "SELECT email, state, coalesce(claimed_by, '') FROM deliveries WHERE job IS NOT NULL")
    return {email: (state, by) for email, state, by in rows}


@pytest.fixture
def listed(project: Path) -> list[str]:
    emails = addresses(60, "example.org")
    subscriber_csv(project / "subscribers.csv", emails)
    return emails


@pytest.mark.usefixtures("on_each_backend")
def test_two_workers_share_one_send_and_each_recipient_gets_one_message(
    project: Path, listed: list[str], on_each_backend: Path | str
) -> None:
    with Server(delay=0.02) as server:
        office(project, on_each_backend, server.port)
        send = start(project, "send", "spring-2018", "--workers", "2", "--yes", "--allow-missing-images")
        out, err = send.communicate(timeout=120)
    assert send.returncode == 0, err
    got = Counter(server.handler.recipients())
    assert set(got) == set(listed) and max(got.values()) == 1, "each recipient exactly once"
    rows = states(on_each_backend)
    assert {state for state, _ in rows.values()} == {"sent"}
    assert len({by.rsplit(":", 1)[0] for _, by in rows.values()}) == 2, "both workers took a share"
    assert "60 sent" in out, out


@pytest.mark.usefixtures("on_each_backend")
def test_a_worker_killed_mid_send_loses_nobody_and_a_second_host_joins(
    project: Path, listed: list[str], on_each_backend: Path | str, tmp_path: Path
) -> None:
    """Host B (its own folder and .env, the same database) joins a send started on host A, then is
    SIGKILLed mid-send: what it had claimed but not started goes to A's worker after the lease;
    what it had started is "unknown", never sent twice."""
    host_b = tmp_path / "host-b"
    shutil.copytree(project, host_b, ignore=shutil.ignore_patterns(".newsletter", "outbox"))
    database = on_each_backend if isinstance(on_each_backend, str) else project / ".newsletter" / "newsletter.sqlite3"
    with Server(delay=0.02) as server:
        office(project, database, server.port)
        office(host_b, database, server.port)
        args = ("--workers", "1", "--lease", "2", "--yes", "--allow-missing-images")
        send = start(project, "send", "spring-2018", *args)
        joined = start(host_b, "worker", "--lease", "2", "--wait", "60")

        def b_rows() -> list[str]:
            return [state for state, by in states(database).values() if f":{joined.pid}:" in by]

        wait_until(lambda: "sending" in b_rows() and "pending" in b_rows(), "host B to start on its claims")
        joined.send_signal(signal.SIGKILL)
        joined.wait(10)
        out, err = send.communicate(timeout=120)
    assert send.returncode == 0, err
    got = Counter(server.handler.recipients())
    assert max(got.values()) == 1, "nobody gets two copies"
    final = states(database)
    unknown = {email for email, (state, _) in final.items() if state == "sending"}
    assert not [e for e, (state, _) in final.items() if state == "pending"], "nobody left behind"
    assert set(got) | unknown == set(listed), "each recipient got it or is reported unknown"
    assert unknown and all(f":{joined.pid}:" in final[e][1] for e in unknown), "only the killed worker's"
    assert all(e in out for e in unknown), out
