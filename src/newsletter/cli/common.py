"""Pieces several commands share: the issue argument, settings, the subscriber list."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.compose import Composed, compose
from newsletter.issue import resolve_issue_path
from newsletter.settings import Settings, load_settings, read_environment

issue_argument = click.argument("issue", metavar="ISSUE")


def settings() -> Settings:
    return load_settings()


def composed_issue(issue: str) -> Composed:
    return compose(resolve_issue_path(issue), settings())


def subscribers_path(given: Path | None, project_root: Path | None = None) -> tuple[Path, str | None]:
    """The subscriber list to use, and a note when it is the shipped example list."""
    if given is not None:
        return given, None
    env = read_environment().get("NEWSLETTER_SUBSCRIBERS")
    if env:
        return Path(env), None
    root = project_root or Path.cwd()
    if (root / "subscribers.csv").exists():
        return root / "subscribers.csv", None
    example = root / "subscribers.example.csv"
    return example, f"using the example list {example} (pass --subscribers or create subscribers.csv)"
