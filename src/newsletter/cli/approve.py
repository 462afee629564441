"""`newsletter approve`: a second member of staff approves what a send will put in readers' inboxes.

Parse, call `sending.approval.prepare_approval`, show what is being approved, ask, record.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsletter.cli.common import issue_argument, project
from newsletter.cli.console import err_console, out_console
from newsletter.cli.send import journal_option
from newsletter.errors import InputError
from newsletter.sending.approval import ApproveOptions, prepare_approval, when


@click.command()
@issue_argument
@click.option(
    "--subscribers",
    "csv_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Approve a send to this one-off subscriber CSV (as `send --subscribers`), not the list in the database.",
)
@journal_option
@click.option("--ward", "wards", multiple=True, help="Only this ward, as `send --ward` (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Only this tag, as `send --tag` (repeatable).")
@click.option("--yes", is_flag=True, help="Approve without asking for confirmation (for scripts).")
def approve(
    issue: str,
    csv_path: Path | None,
    journal_path: Path | str | None,
    wards: tuple[str, ...],
    tags: tuple[str, ...],
    yes: bool,
) -> int:
    """Approve the send of ISSUE as it is now, so that another member of staff may send it when
    NEWSLETTER_APPROVAL_ABOVE asks for a second person. Any change to what would go out (an
    article, a template, a setting, the audience) voids the approval; `send` then says what
    changed. Give the same --ward, --tag or --subscribers as the send.

    \b
    Example:
        newsletter approve spring-2018
    """
    options = ApproveOptions(csv_path=csv_path, journal_path=journal_path, wards=wards, tags=tags)
    pending = prepare_approval(issue, project(issue), options)
    for line in pending.summary():
        err_console().print(line, highlight=False, soft_wrap=True)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError(
                "refusing to approve without confirmation: stdin is not a terminal",
                hint="pass --yes to approve from a script",
            )
        if not click.confirm(f"Approve {pending.issue} as shown?", default=False):
            err_console().print("nothing approved", highlight=False)
            return 1
    entry = pending.record()
    out_console().print(
        f"approved {pending.issue} as {entry.staff} at {when(entry)} (audit log entry {entry.id}); "
        "anyone else may send it while nothing changes",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def register(group: click.Group) -> None:
    group.add_command(approve)
