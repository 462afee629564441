"""No stray project (issue 18): a command that needs a project, run outside one, says how to pick
one and writes nothing; `newsletter init DIR` starts one with a secret and a .gitignore of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from newsletter.cli import cli
from newsletter.settings import EXAMPLE_SECRET, load_settings, read_environment
from tests.conftest import REPO
from tests.support.forked_cli import ForkServer

# Every command that does not need a project; all the others must refuse outside one.
NO_PROJECT_NEEDED = {"init", "subscribers check"}


def leaves(command: click.Command = cli, path: tuple[str, ...] = ()) -> Iterator[str]:
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from leaves(sub, (*path, name))
    else:
        yield " ".join(path)


def arguments(inputs: Path) -> dict[str, list[str]]:
    """Each command with arguments that are good in themselves, so only the missing project is wrong."""
    csv = str(inputs / "subscribers.csv")
    return {
        "approve": ["approve", "spring-2018", "--yes"],
        "archive": ["archive"],
        "bounces import": ["bounces", "import", str(inputs / "bounces.mbox")],
        "build": ["build", "spring-2018"],
        "check": ["check", "spring-2018"],
        "db backup": ["db", "backup", "backup.sqlite3"],
        "db copy": ["db", "copy", "--to", str(inputs / "copy.sqlite3")],
        "db status": ["db", "status"],
        "db upgrade": ["db", "upgrade"],
        "dkim keygen": ["dkim", "keygen", "--selector", "news2026", "--domain", "office.example", "--key", "k.pem"],
        "import": ["import", str(inputs / "feed.xml")],
        "log": ["log", "--verify"],
        "new-issue": ["new-issue", "summer-2019", "--articles", "standing-down"],
        "preview": ["preview", "spring-2018", "--no-browser", "--port", "0"],
        "report": ["report"],
        "send": ["send", "spring-2018", "--dry-run"],
        "serve": ["serve", "--port", "0"],
        "status": ["status", "spring-2018"],
        "subscribers add": ["subscribers", "add", "anne@example.org", "--consent", "signed form"],
        "subscribers edit": ["subscribers", "edit", "anne@example.org", "--ward", "Heatons North"],
        "subscribers erase": ["subscribers", "erase", "anne@example.org", "--yes"],
        "subscribers export": ["subscribers", "export", "list.csv"],
        "subscribers export-person": ["subscribers", "export-person", "anne@example.org"],
        "subscribers import": ["subscribers", "import", csv],
        "subscribers list": ["subscribers", "list"],
        "subscribers remove": ["subscribers", "remove", "anne@example.org"],
        "subscribers show": ["subscribers", "show", "anne@example.org"],
        "suppressions export": ["suppressions", "export", "suppressions.csv"],
        "suppressions import": ["suppressions", "import", str(inputs / "suppressions.csv")],
        "suppressions list": ["suppressions", "list"],
        "suppressions remove": ["suppressions", "remove", "anne@example.org"],
        "unsubscribe": ["unsubscribe", "anne@example.org"],
        "worker": ["worker", "spring-2018"],
    }


def newsletter(*args: str, cwd: Path, home: Path, forked: ForkServer | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a new process: a whole `python -m newsletter`, or forked from `forked` (the
    fork server of tests/support/zygote.py) for the many commands of the parametrized test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_", "DKIM_"))}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", "PYTHONUTF8": "1", "HOME": str(home)})
    if forked is not None:
        return forked.run(list(args), env, cwd, None, 60)
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An empty folder to run in, a HOME, and a folder of good input files."""
    empty, home, inputs = tmp_path / "somewhere", tmp_path / "home", tmp_path / "inputs"
    for folder in (empty, home, inputs):
        folder.mkdir()
    shutil.copy(REPO / "subscribers.example.csv", inputs / "subscribers.csv")
    (inputs / "suppressions.csv").write_text("email,reason\nanne@example.org,manual\n", encoding="utf-8")
    (inputs / "bounces.mbox").write_text("", encoding="utf-8")
    (inputs / "feed.xml").write_text("<rss version='2.0'><channel><title>t</title></channel></rss>", encoding="utf-8")
    return empty, home, inputs


def test_every_command_that_needs_a_project_is_listed() -> None:
    assert set(arguments(Path())) == set(leaves()) - NO_PROJECT_NEEDED


@pytest.mark.parametrize("command", sorted(arguments(Path())))
def test_outside_a_project_a_command_says_how_to_pick_one_and_writes_nothing(
    command: str, places: tuple[Path, Path, Path], fork_server: ForkServer | None
) -> None:
    empty, home, inputs = places
    result = newsletter(*arguments(inputs)[command], cwd=empty, home=home, forked=fork_server)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {empty}: not in a newsletter project"), lines[0]
    assert "--project DIR" in lines[0] and "NEWSLETTER_PROJECT" in lines[0] and "newsletter init DIR" in lines[0]
    assert list(empty.iterdir()) == [] and list(home.iterdir()) == []


def test_a_project_option_naming_a_folder_without_issues_is_refused(places: tuple[Path, Path, Path]) -> None:
    empty, home, _inputs = places
    other = empty.parent / "not-a-project"
    other.mkdir()
    result = newsletter("--project", str(other), "subscribers", "list", cwd=empty, home=home)
    assert result.returncode == 2 and "not a newsletter project" in result.stderr, result.stderr
    assert f"newsletter init {other}" in result.stderr
    assert list(other.iterdir()) == [] and list(empty.iterdir()) == []


def test_init_then_a_dry_run_from_anywhere(places: tuple[Path, Path, Path]) -> None:
    empty, home, _inputs = places
    office = empty.parent / "office"
    made = newsletter("init", str(office), cwd=empty, home=home)
    assert made.returncode == 0, made.stderr
    for name in ("issues", "articles", "templates"):
        shipped = sorted(p.relative_to(REPO / name) for p in (REPO / name).rglob("*") if "__pycache__" not in p.parts)
        assert sorted(p.relative_to(office / name) for p in (office / name).rglob("*")) == shipped
    env = read_environment(office / ".env")
    secret = env["UNSUBSCRIBE_SECRET"]
    assert secret != EXAMPLE_SECRET and len(secret) >= 32
    assert not [found for found in load_settings(env).example_values_in_use() if "UNSUBSCRIBE_SECRET" in found]
    assert (office / ".env").stat().st_mode & 0o077 == 0
    ignored = (office / ".gitignore").read_text(encoding="utf-8").split()
    assert {".newsletter/", ".env", "subscribers.csv", "*.csv", "outbox/"} <= set(ignored)
    assert list(empty.iterdir()) == [] and not any(p.name.startswith(".office") for p in empty.parent.iterdir())

    dry = newsletter("--project", str(office), "send", "spring-2018", "--dry-run", cwd=empty, home=home)
    assert dry.returncode == 0, dry.stderr
    assert "18 would be sent" in dry.stdout
    assert list(empty.iterdir()) == []

    other = newsletter("init", str(empty.parent / "second"), cwd=empty, home=home)
    assert other.returncode == 0, other.stderr
    assert read_environment(empty.parent / "second" / ".env")["UNSUBSCRIBE_SECRET"] != secret


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("holds", ["project", "env"])
def test_init_refuses_a_folder_with_a_project_or_a_env(holds: str, places: tuple[Path, Path, Path]) -> None:
    empty, home, _inputs = places
    target = empty.parent / "taken"
    target.mkdir()
    if holds == "project":
        (target / "issues").mkdir()
        (target / "issues" / "mine.yaml").write_text("subject: mine\n", encoding="utf-8")
    else:
        (target / ".env").write_text("UNSUBSCRIBE_SECRET=kept\n", encoding="utf-8")
    before = snapshot(target)
    result = newsletter("init", str(target), cwd=empty, home=home)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert snapshot(target) == before and sorted(p.name for p in target.iterdir()) == sorted(
        {"project": ["issues"], "env": [".env"]}[holds]
    )


def test_init_fills_an_existing_folder_keeping_its_gitignore(places: tuple[Path, Path, Path]) -> None:
    empty, home, _inputs = places
    (empty / ".env").write_text("\n", encoding="utf-8")  # an empty .env holds nothing to lose
    (empty / ".gitignore").write_text("notes/\n", encoding="utf-8")
    result = newsletter("init", ".", cwd=empty, home=home)
    assert result.returncode == 0, result.stderr
    ignored = (empty / ".gitignore").read_text(encoding="utf-8")
    assert ignored.startswith("notes/\n") and ".newsletter/" in ignored.split()
    assert read_environment(empty / ".env")["UNSUBSCRIBE_SECRET"] != EXAMPLE_SECRET
    assert sorted(p.name for p in empty.iterdir()) == sorted(
        [".env", ".gitignore", "articles", "images", "issues", "subscribers.example.csv", "templates"]
    )
