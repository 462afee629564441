"""A recipient no header can carry is failed with its reason and counted, never lost (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.delivery.outbox import Outbox
from newsletter.delivery.pacing import LoopOptions
from newsletter.sending import run as sending
from newsletter.store.journal import Journal
from tests.conftest import Run
from tests.support.sending import composed_issue


def test_an_unbuildable_recipient_is_failed_and_counted(project: Path) -> None:
    composed = composed_issue(project)
    with Journal(project / "journal.sqlite3") as journal:
        addresses = ["ü@example.org", "press@example.org", "a@example.org\r\nBcc: x@example.net"]
        report = sending.test_send(composed, addresses, Outbox(project / "out"), journal, LoopOptions(connections=1))
    assert (report.sent, report.failed) == (1, 2)
    assert [email for email, _ in report.failures] == ["ü@example.org", "a@example.org\r\nBcc: x@example.net"]
    assert all("message not built" in reason for _, reason in report.failures)
    assert [p.name for p in (project / "out").iterdir()] == ["press@example.org.eml"]


@pytest.mark.parametrize(
    "address",
    [
        "ü@example.org",
        "a@example.org, b@example.org",
        "a@example.org\r\nBcc: victim@example.net",
        "Press <press@example.org>",
        "press@example.org;b@example.org",
    ],
)
def test_to_takes_one_plain_address_or_exits_2(run_cli: Run, project: Path, address: str) -> None:
    result = run_cli("send", "spring-2018", "--to", address)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --to"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "outbox").exists()
