"""One send of an issue at a time: two real `newsletter send` processes, a SIGKILLed holder,
and the lock's takeover rules, on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from newsletter.store.database import Location, connect
from newsletter.store.locks import SendLocked, acquire, holder, node
from tests.conftest import REAL_SETTINGS
from tests.support.db import write
from tests.support.sending import addresses, subscriber_csv
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(120)


def start_send(project: Path, database: Location, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    env.update(REAL_SETTINGS)
    env.update(
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "SMTP_CONNECTIONS": "2",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "NEWSLETTER_DATABASE": str(database),
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsletter",
            "send",
            "spring-2018",
            "--yes",
            "--subscribers",
            "list.csv",
            "--allow-missing-images",
            *extra,
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_sends_started_together_deliver_everybody_once(project: Path, on_each_backend: Location) -> None:
    emails = addresses(120, "example.org")
    subscriber_csv(project / "list.csv", emails)
    with Server(delay=0.01) as server:
        first, second = (
            start_send(project, on_each_backend, server.port),
            start_send(project, on_each_backend, server.port),
        )
        outputs = [p.communicate(timeout=100) for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    got = Counter(server.handler.recipients())
    assert set(got) == set(emails) and max(got.values()) == 1, "nobody gets two copies"
    assert codes == [0, 1], outputs
    refused = next(err for (out, err), p in zip(outputs, (first, second), strict=True) if p.returncode == 1)
    lines = [line for line in refused.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "already being sent by process" in lines[0]
    assert socket.gethostname() in lines[0] and "Traceback" not in refused


# SMTP_CONNECTIONS=2 above, and each connection carries two transactions ("lanes") at once.
IN_FLIGHT = 2 * 2


def test_a_killed_holder_does_not_block_the_next_send(project: Path, on_each_backend: Location) -> None:
    emails = addresses(200, "example.org")
    subscriber_csv(project / "list.csv", emails)
    with Server(delay=0.01) as server:
        # The relay accepts 20 messages, then holds its reply to the next final dot on each of the two
        # connections: the holder is killed mid-send whatever the machine's load, never after the end.
        held = [("sleep", 60.0)] * 2
        server.handler.after_data.extend([*[("sleep", 0.0)] * 20, *held])
        victim = start_send(project, on_each_backend, server.port)
        deadline = time.monotonic() + 60
        while server.handler.after_data and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert len(server.handler.recipients()) == 20 and not server.handler.after_data, "killed with both held"
        after = start_send(project, on_each_backend, server.port)
        out, err = after.communicate(timeout=100)
    assert after.returncode == 0, err
    got = Counter(server.handler.recipients())
    assert max(got.values()) == 1, "nobody gets two copies"
    # Only the recipients in flight at the kill are left out, and each is reported as unknown.
    missing = set(emails) - set(got)
    unknown = set(re.findall(r"^ +unknown (\S+)$", out, re.M))
    assert 2 <= len(missing) <= IN_FLIGHT and missing <= unknown, out
    assert len(unknown) <= IN_FLIGHT, out


def lock_row(database: Location, **values: object) -> None:
    """Put a holder's row in place as another process would have left it."""
    row = {
        "issue": "spring-2018",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": "2026-01-01T00:00:00+00:00",
        "lease_until": "2999-01-01T00:00:00+00:00",
        "token": f"{node()} t",  # made on this machine: a dead holder here is provably dead
    }
    row.update(values)
    write(
        database,
        "INSERT INTO send_locks (issue, host, pid, started_at, lease_until, token) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (issue) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
        "started_at = excluded.started_at, lease_until = excluded.lease_until, token = excluded.token",
        tuple(row.values()),
    )


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    ("holder_values", "taken_over"),
    [
        ({}, False),  # this very process: alive
        ({"pid": 0}, "dead"),
        ({"host": "other-host.example.org"}, False),  # alive as far as anyone here can tell: the lease holds
        ({"host": "other-host.example.org", "lease_until": "2001-01-01T00:00:00+00:00"}, True),
    ],
    ids=["alive", "dead-process", "other-host-leased", "other-host-expired"],
)
def test_a_lock_is_taken_over_only_when_its_holder_is_gone(
    database: Location, holder_values: dict[str, object], taken_over: bool | str
) -> None:
    if taken_over == "dead":
        holder_values = {"pid": dead_pid()}
    lock_row(database, **holder_values)
    if taken_over:
        with acquire(database, "spring-2018") as lock:
            db = connect(database)
            current = holder(db, "spring-2018")
            db.close()
            assert current is not None and current.pid == os.getpid() and lock.held
        db = connect(database)
        assert holder(db, "spring-2018") is None, "released at the end"
        db.close()
    else:
        with pytest.raises(SendLocked, match="already being sent by process"):
            acquire(database, "spring-2018")


def test_a_holder_whose_lock_was_taken_over_notices(database: Location) -> None:
    lock = acquire(database, "spring-2018", renew_every=0.05)
    lock_row(database, host="other-host.example.org", token="theirs")
    deadline = time.monotonic() + 10
    while lock.held and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not lock.held and "taken over by process" in (lock.lost or "")
    lock.release()
    db = connect(database)
    current = holder(db, "spring-2018")
    db.close()
    assert current is not None and current.host == "other-host.example.org", "release leaves the new holder alone"
