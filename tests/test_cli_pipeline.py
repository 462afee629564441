"""The pipeline through the real CLI: build, check, send to the outbox, dry run."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from tests.conftest import Run


def test_build_writes_the_web_copy_text_and_a_sample(project: Path, run_cli: Run) -> None:
    result = run_cli("build", "spring-2018", "--out", "site")
    assert result.returncode == 0, result.stderr
    html = (project / "site" / "spring-2018.html").read_text(encoding="utf-8")
    text = (project / "site" / "spring-2018.txt").read_text(encoding="utf-8")
    sample = email.message_from_bytes((project / "site" / "spring-2018.eml").read_bytes(), policy=email.policy.default)
    assert html.startswith("<!doctype html>") and "Dear constituent" in html
    assert "token=" not in html, "the public web copy must not carry anybody's unsubscribe token"
    assert "mailto:unsubscribe@example.org" in html and "mailto:unsubscribe@example.org" in text
    assert sample["Subject"] == "Stockport update: inquiry into 'sent away' children"
    assert not list((project / "site").glob(".*.tmp"))


def test_build_by_default_writes_into_the_project_whatever_the_current_folder(project: Path, run_cli: Run) -> None:
    (project / "articles" / "drafts").mkdir()
    result = run_cli("build", "spring-2018", cwd=project / "articles" / "drafts")
    assert result.returncode == 0, result.stderr
    assert (project / "build" / "spring-2018.html").is_file()
    assert not (project / "articles" / "drafts" / "build").exists()


def test_check_passes_the_example_issue(project: Path, run_cli: Run) -> None:
    result = run_cli("check", "issues/spring-2018.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_check_fails_on_a_subject_and_link_problem(project: Path, run_cli: Run) -> None:
    article = project / "articles" / "sent-away-children-inquiry.md"
    article.write_text(
        article.read_text(encoding="utf-8") + "\nSee [the file](ftp://example.org/file).\n", encoding="utf-8"
    )
    issue = project / "issues" / "spring-2018.yaml"
    issue.write_text(issue.read_text(encoding="utf-8").replace('subject: "', 'subject: "' + "Very long " * 8, 1))
    result = run_cli("check", "spring-2018")
    assert result.returncode == 1
    assert "ftp://example.org/file" in result.stdout and "is not an http(s) or mailto link" in result.stdout
    assert "the subject is" in result.stdout


def test_send_delivers_one_message_per_consenting_subscriber_to_the_outbox(project: Path, run_cli: Run) -> None:
    result = run_cli("send", "spring-2018", "--subscribers", "subscribers.example.csv", "--yes")
    assert result.returncode == 0, result.stderr
    files = sorted((project / "outbox" / "spring-2018").glob("*.eml"))
    assert len(files) == 18
    assert re.search(r"(?<!\d)18 sent to the outbox\b", result.stdout), result.stdout
    recipients = set()
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        recipients.add(message["To"].addresses[0].addr_spec)
        assert path.name == f"{message['To'].addresses[0].addr_spec}.eml"
    assert len(recipients) == 18
    assert "janet.clarke@example.com" not in recipients, "a row without consent must never be sent to"
    assert not list((project / "outbox").rglob(".*.tmp"))


def test_dry_run_writes_nothing_and_reports_counts(project: Path, run_cli: Run) -> None:
    (project / "list.csv").write_text(
        "email,first_name,consented_at\na@example.org,A,2018-01-01\nb@example.org,B,2018-01-01\n"
        "A@example.org,A,2018-01-01\nbad,Bad,2018-01-01\nc@example.org,C,\n"
    )
    result = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "2 would be sent" in result.stdout
    assert "1 duplicate" in result.stdout and "1 invalid address" in result.stdout and "1 no consent" in result.stdout
    assert "Dry run" in result.stdout
    assert not (project / "outbox").exists()


def test_send_limit(project: Path, run_cli: Run) -> None:
    result = run_cli(
        "send", "spring-2018", "--subscribers", "subscribers.example.csv", "--limit", "3", "--yes", "--outbox", "out3"
    )
    assert result.returncode == 0, result.stderr
    assert len(list((project / "out3").glob("*.eml"))) == 3
