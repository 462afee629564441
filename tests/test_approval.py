"""Two-person approval (issue 21): with NEWSLETTER_APPROVAL_ABOVE set, a send to more readers
goes through the relay only under a matching `newsletter approve` by someone else; the refusal
says what changed. The real CLI, a real relay (aiosmtpd), the real database on both backends."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from newsletter import audit
from newsletter.content.issue import resolve_issue_path
from newsletter.mail.compose import compose
from newsletter.sending.fingerprint import changes, fingerprint
from newsletter.settings import load_settings
from newsletter.store import Location, connect
from tests.conftest import REAL_SETTINGS, Run
from tests.support.sending import addresses, composed_issue, subscriber_csv
from tests.support.smtpd import Server

ARTICLE = "articles/county-lines-violence-survey.md"


def env_for(server: Server, staff: str, above: int = 3) -> dict[str, str]:
    return {
        **REAL_SETTINGS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(server.port),
        "SMTP_SECURITY": "none",
        "NEWSLETTER_APPROVAL_ABOVE": str(above),
        "NEWSLETTER_STAFF": staff,
    }


def send(run_cli: Run, server: Server, staff: str, above: int = 3) -> subprocess.CompletedProcess[str]:
    return run_cli("send", "spring-2018", "--yes", "--allow-missing-images", env=env_for(server, staff, above))


def import_list(run_cli: Run, project: Path, count: int, name: str = "list.csv") -> None:
    subscriber_csv(project / name, addresses(count, "example.org"))
    result = run_cli("subscribers", "import", name)
    assert result.returncode == 0, result.stderr


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def five(project: Path, on_each_backend: Location, run_cli: Run) -> Location:
    """Five subscribers in the list of record, on this test's backend."""
    import_list(run_cli, project, 5)
    return on_each_backend


def test_one_word_changed_after_approval_refuses_naming_the_article(
    project: Path, five: Location, run_cli: Run
) -> None:
    with Server() as server:
        approved = run_cli("approve", "spring-2018", "--yes", env=env_for(server, "Ann"))
        assert approved.returncode == 0, approved.stderr
        assert "5 readers" in approved.stderr and "Stockport update" in approved.stderr, approved.stderr
        article = project / ARTICLE
        article.write_text(article.read_text(encoding="utf-8").replace(" police ", " Police ", 1), encoding="utf-8")
        refused = send(run_cli, server, "Bob")
        assert refused.returncode == 2, refused.stderr
        [line] = errors(refused.stderr)
        assert f"{ARTICLE} changed since the approval by Ann at " in line, line
        assert not server.handler.received
        # Approved again as it now is, someone else's send goes out.
        assert run_cli("approve", "spring-2018", "--yes", env=env_for(server, "Ann")).returncode == 0
        sent = send(run_cli, server, "Bob")
        assert sent.returncode == 0, sent.stderr
        assert "approved by Ann at " in sent.stderr
        assert len(server.handler.received) == 5
    with connect(five) as db:
        [first, second] = audit.entries(db, action="approve", issue="spring-2018")
        [started] = audit.entries(db, action="send.started", issue="spring-2018")
    assert started.staff == "Bob" and started.details["approved_by"] == "Ann"
    assert started.details["approval_entry"] == second.id
    assert first.staff == second.staff == "Ann" and first.details["audience"] == 5
    assert first.details["parts"][ARTICLE] != second.details["parts"][ARTICLE]
    assert first.details["fingerprint"] != second.details["fingerprint"]


def test_the_person_who_approved_cannot_send(five: Location, run_cli: Run) -> None:
    with Server() as server:
        assert run_cli("approve", "spring-2018", "--yes", env=env_for(server, "Ann")).returncode == 0
        refused = send(run_cli, server, " ann ")
        assert refused.returncode == 2 and not server.handler.received
        [line] = errors(refused.stderr)
        assert "approved it and cannot also send it" in line, line


def test_a_grown_audience_voids_the_approval(project: Path, five: Location, run_cli: Run) -> None:
    with Server() as server:
        assert run_cli("approve", "spring-2018", "--yes", env=env_for(server, "Ann")).returncode == 0
        subscriber_csv(project / "more.csv", addresses(2, "example.net"))
        assert run_cli("subscribers", "import", "more.csv").returncode == 0
        refused = send(run_cli, server, "Bob")
        assert refused.returncode == 2 and not server.handler.received
        [line] = errors(refused.stderr)
        assert "the audience grew from 5 to 7 since the approval by Ann" in line, line


def test_no_approval_needed_at_the_limit_or_for_a_test_copy(five: Location, run_cli: Run) -> None:
    with Server() as server:
        none_yet = send(run_cli, server, "Bob", above=4)
        assert none_yet.returncode == 2 and "nobody has approved spring-2018" in none_yet.stderr
        test_copy = run_cli("send", "spring-2018", "--to", "me@example.com", env=env_for(server, "Bob", above=0))
        assert test_copy.returncode == 0, test_copy.stderr
        at_limit = send(run_cli, server, "Bob", above=5)
        assert at_limit.returncode == 0, at_limit.stderr
        assert len(server.handler.received) == 1 + 5


def test_approve_shows_what_it_approves_and_asks(project: Path, run_cli: Run) -> None:
    import_list(run_cli, project, 4)
    with Server() as server:
        asked = run_cli("approve", "spring-2018", env=env_for(server, "Ann"), input="")
    assert asked.returncode == 2 and "stdin is not a terminal" in asked.stderr
    for shown in ("subject: Stockport update", "editions: everyone", "audience: 4 readers"):
        assert shown in asked.stderr, asked.stderr
    with connect(project / ".newsletter" / "newsletter.sqlite3") as db:
        assert audit.entries(db, action="approve") == [], "nothing is recorded without a yes"


def test_what_changed_is_said_part_by_part(project: Path) -> None:
    before = fingerprint(composed_issue(project), 120, "the list in the database")
    (project / "templates" / "partials" / "footer.mjml.j2").write_text(
        (project / "templates" / "partials" / "footer.mjml.j2").read_text().replace("Unsubscribe<", "Leave the list<")
    )
    after = fingerprint(composed_issue(project), 131, "the list in the database; wards Manor")
    found = changes(before, after)
    assert found[0] == "templates/partials/footer.mjml.j2 changed"
    assert "the audience grew from 120 to 131" in found
    assert any(item.startswith("the segment changed") for item in found)
    # A setting that changes the output is explained by the editions it changed.
    settings = load_settings({**REAL_SETTINGS, "NEWSLETTER_POSTAL_ADDRESS": "1 Other Road\\nStockport SK1 1AB"})
    moved = fingerprint(compose(resolve_issue_path("spring-2018", project), settings), 131, after.segment)
    assert moved.digest != after.digest
    assert changes(after, moved)[0].startswith("the edition for everyone's HTML changed")
