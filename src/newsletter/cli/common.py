"""Pieces several commands share: the project, the issue argument, settings, the subscriber list."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter import audit
from newsletter import project as project_home
from newsletter import settings as publication
from newsletter.audience import bounces
from newsletter.audit.identity import Staff
from newsletter.checks import images as image_checks
from newsletter.content.issue import find_issue
from newsletter.delivery import relays
from newsletter.mail import dkim
from newsletter.mail.compose import Composed, compose
from newsletter.project import Project, find_project
from newsletter.publish import feedimport
from newsletter.sending import approval
from newsletter.settings import Settings, refuse_unknown_settings
from newsletter.web import config as web_config

issue_argument = click.argument("issue", metavar="ISSUE")

# Every setting, gathered from the modules that read them (each names its own in `SETTINGS`):
# a key of our families (SMTP_, NEWSLETTER_, UNSUBSCRIBE_, DKIM_) not in here stops the command.
# tests/test_send_destination.py checks that every such name in the source is in here.
KNOWN_SETTINGS = frozenset(
    (
        *publication.SETTINGS,
        *project_home.SETTINGS,
        *relays.SETTINGS,
        *dkim.SETTINGS,
        *web_config.SETTINGS,
        *bounces.SETTINGS,
        *feedimport.SETTINGS,
        *image_checks.SETTINGS,
        *approval.SETTINGS,
    )
)


def project(issue: str | Path | None = None) -> Project:
    """The project of this command: `--project`, else the issue's, else found from the current folder."""
    context = click.get_current_context(silent=True)
    obj = context.find_root().obj if context is not None else None
    explicit = obj.get("project") if isinstance(obj, dict) else None
    given = Path(issue) if issue is not None else None
    home = find_project(given if given is not None and given.exists() else None, explicit)
    refuse_unknown_settings(home.env, KNOWN_SETTINGS, home.dotenv_path)
    return home


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


_STAFF_NOTES: list[str] = []  # said once the command has done (and so recorded) what it was asked


def staff(home: Project | None = None) -> Staff:
    """Who the audit log records for this command. When that is only the OS user (NEWSLETTER_STAFF
    unset), a one-line note says so after the command succeeds (`said_notes`): never before a
    refusal, which stays one line."""
    who = audit.identity.of((home or project()).env)
    if not who.named and not _STAFF_NOTES:
        _STAFF_NOTES.append(
            f"note: recorded in the audit log as {who.name} ({who.source}); "
            "set NEWSLETTER_STAFF in .env to record your own name"
        )
    return who


def said_notes(succeeded: bool) -> list[str]:
    """The staff notes of this command (none when it failed), each given once."""
    notes = list(_STAFF_NOTES) if succeeded else []
    _STAFF_NOTES.clear()
    return notes
