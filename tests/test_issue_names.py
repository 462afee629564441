"""A misspelt issue name gets a "did you mean" in every command that takes one (issue 18), by one
lookup (`content.issue.find_issue`), from the project root or any folder inside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run

TYPO = "sprin-2018"
COMMANDS = {
    "build": ["build", TYPO],
    "check": ["check", TYPO],
    "preview": ["preview", TYPO, "--no-browser", "--port", "0"],
    "send": ["send", TYPO, "--dry-run"],
    "status": ["status", TYPO],
}
# Every command finds its issue through content.issue.find_issue, from any folder of the project.
FROM_A_SUBFOLDER = sorted(COMMANDS)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_misspelt_issue_gets_did_you_mean(command: str, project: Path, run_cli: Run) -> None:
    if command == "status":  # status knows the issues its journal records
        assert run_cli("send", "spring-2018", "--yes").returncode == 0
    result = run_cli(*COMMANDS[command])
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"error: {TYPO}: ") and line.endswith("did you mean 'spring-2018'?"), line


@pytest.mark.parametrize("command", FROM_A_SUBFOLDER)
def test_from_a_subfolder_the_suggestion_comes_from_the_projects_issues(
    command: str, project: Path, run_cli: Run
) -> None:
    if command == "status":
        assert run_cli("send", "spring-2018", "--yes").returncode == 0
    result = run_cli(*COMMANDS[command], cwd=project / "articles")
    assert result.returncode == 2, result.stdout + result.stderr
    assert one_error_line(result.stderr).endswith("did you mean 'spring-2018'?")


def test_new_issue_suggests_a_misspelt_article(project: Path, run_cli: Run) -> None:
    result = run_cli("new-issue", "summer-2019", "--articles", "standing-dwn,no-such-thing")
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert "no article 'standing-dwn' (did you mean 'standing-down'?), 'no-such-thing' in" in line
    assert not (project / "issues" / "summer-2019.yaml").exists()
