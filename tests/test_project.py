"""The project home: found the same way from anywhere, so one send is one send.

SQLite only: the subject is where the project's database *file* is found from any folder (a
postgresql:// URL is taken as it is, whatever the folder; tests/test_db_cli.py covers it)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from newsletter.project import find_project
from tests.conftest import Run
from tests.support.db import scalar

FIXTURE = Path(__file__).parent / "fixtures" / "store" / "journal-release.sqlite3"


def outbox_recipients(project: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for eml in (project / "outbox").rglob("*.eml"):
        for line in eml.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("To:"):
                found[line.split("<")[-1].rstrip(">").strip().lower()] += 1
    return found


def test_the_same_send_from_three_folders_delivers_one_copy_each(project: Path, run_cli: Run, tmp_path: Path) -> None:
    (project / "articles" / "sub").mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    issue = str(project / "issues" / "spring-2018.yaml")
    first = run_cli("send", "spring-2018", "--yes")
    assert first.returncode == 0, first.stderr
    for cwd, target in ((project / "articles" / "sub", "spring-2018"), (outside, issue)):
        again = run_cli("send", target, "--yes", cwd=cwd)
        assert again.returncode == 0, again.stderr
        assert "18 skipped (already sent)" in again.stdout
    received = outbox_recipients(project)
    assert len(received) == 18 and set(received.values()) == {1}
    assert not (outside / ".newsletter").exists() and not (outside / "outbox").exists()


def test_status_of_an_issue_file_reads_its_projects_database_from_anywhere(
    project: Path, run_cli: Run, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert run_cli("send", "spring-2018", "--yes").returncode == 0
    shown = run_cli("status", str(project / "issues" / "spring-2018.yaml"), cwd=outside)
    assert shown.returncode == 0, shown.stderr
    assert str(project / ".newsletter" / "newsletter.sqlite3") in shown.stdout
    assert not (outside / ".newsletter").exists()


def test_env_is_read_from_the_root_and_relative_paths_resolve_against_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text(
        "NEWSLETTER_DATABASE=data/list.sqlite3\nNEWSLETTER_FOOTER_NOTE=from root\n", encoding="utf-8"
    )
    monkeypatch.chdir(project / "articles")
    home = find_project()
    assert home.root == project.resolve()
    assert home.database_path == project.resolve() / "data" / "list.sqlite3"
    assert home.settings().footer_note == "from root" and home.settings().journal_path == home.database_path
    monkeypatch.setenv("NEWSLETTER_FOOTER_NOTE", "from the environment")
    assert find_project().settings().footer_note == "from the environment"


def test_project_option_and_variable_name_the_root(
    project: Path, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert find_project(explicit=project).root == project.resolve()
    monkeypatch.setenv("NEWSLETTER_PROJECT", str(project))
    assert find_project().root == project.resolve()
    result = run_cli("--project", str(project), "send", "spring-2018", "--dry-run", cwd=outside)
    assert result.returncode == 0 and "18 would be sent" in result.stdout, result.stderr
    missing = run_cli("--project", str(tmp_path / "nope"), "send", "spring-2018", "--dry-run", cwd=outside)
    assert missing.returncode == 2 and "--project" in missing.stderr and "Traceback" not in missing.stderr


def test_the_journal_of_the_previous_release_is_found_upgraded_and_honoured(project: Path, run_cli: Run) -> None:
    """SQLite only: the subject is the file an earlier release left in the project folder."""
    (project / ".newsletter").mkdir()
    journal = project / ".newsletter" / "journal.sqlite3"
    shutil.copy(FIXTURE, journal)
    refused = run_cli("send", "spring-2018", "--dry-run")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert str(journal) in refused.stderr and "newsletter db upgrade" in refused.stderr
    upgraded = run_cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    dry = run_cli("send", "spring-2018", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    # 18 were sent by the old release; one of them has unsubscribed since (the fixture's suppression).
    assert "0 would be sent" in dry.stdout and "17 skipped (already sent)" in dry.stdout
    assert "1 skipped (suppressed)" in dry.stdout
    result = run_cli("send", "spring-2018", "--yes")
    assert result.returncode == 0, result.stderr
    assert "0 sent" in result.stdout and "17 skipped (already sent)" in result.stdout
    assert not (project / "outbox").exists(), "nobody was sent the issue twice"
    assert not (project / ".newsletter" / "newsletter.sqlite3").exists()
    assert scalar(journal, "SELECT count(*) FROM subscribers WHERE status = 'subscribed'") == 17
    assert scalar(journal, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == 18
