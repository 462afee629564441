"""Pieces several commands share: the project, the issue argument, settings, the subscriber list."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.content.issue import find_issue
from newsletter.mail.compose import Composed, compose
from newsletter.project import Project, find_project
from newsletter.settings import Settings

issue_argument = click.argument("issue", metavar="ISSUE")


def project(issue: str | Path | None = None) -> Project:
    """The project of this command: `--project`, else the issue's, else found from the current folder."""
    context = click.get_current_context(silent=True)
    obj = context.find_root().obj if context is not None else None
    explicit = obj.get("project") if isinstance(obj, dict) else None
    given = Path(issue) if issue is not None else None
    return find_project(given if given is not None and given.exists() else None, explicit)


def settings() -> Settings:
    return project().settings()


def issue_path(issue: str, home: Project) -> Path:
    """An issue named by path, by file name in the project's issues/, or by slug; one line with a
    "did you mean" when there is none."""
    return find_issue(issue, home.root)


def composed_issue(issue: str, home: Project | None = None) -> Composed:
    home = home or project(issue)
    return compose(issue_path(issue, home), home.settings())


def subscribers_path(given: Path | None, home: Project) -> tuple[Path, str | None]:
    """The subscriber list to use, and a note when it is the shipped example list."""
    return (given, None) if given is not None else home.subscriber_list()
