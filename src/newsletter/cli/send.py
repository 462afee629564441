"""`newsletter send`: deliver an issue over SMTP (or to the outbox), resumably; or dry-run it.

Parse, call `sending.start.prepare_send`, show what it decided, ask, run, print the summary.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from newsletter.cli.common import issue_argument, project, staff
from newsletter.cli.console import err_console, styled
from newsletter.cli.progress import print_summary, progress_display
from newsletter.cli.subscribers import print_audience
from newsletter.cli.vocabulary import renamed
from newsletter.errors import ConfigError, InputError
from newsletter.sending.report import SendReport
from newsletter.sending.start import SendOptions, prepare_send
from newsletter.sending.worker import LEASE, Share
from newsletter.settings import database_location
from newsletter.store.connection import shown


class Database(click.ParamType["Path | str"]):
    """`--database`: a SQLite file (a `Path`) or a postgresql:// URL (kept as the string), the two
    things NEWSLETTER_DATABASE takes, so a command line can name either."""

    name = "database"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Path | str:
        if isinstance(value, Path):
            return value
        text = str(value)
        try:
            located = database_location(text, "--database")
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)
        if isinstance(located, str):
            return located
        if Path(text).is_dir():
            self.fail(f"{text!r} is a folder, not a database file", param, ctx)
        return Path(text)


journal_option = renamed(
    "--database",
    "journal_path",
    old=("--journal",),
    type=Database(),
    metavar="DATABASE",
    default=None,
    help="The database: a SQLite file or a postgresql:// URL (default: $NEWSLETTER_DATABASE or "
    ".newsletter/newsletter.sqlite3 in the project).",
)


lease_option = click.option(
    "--lease",
    type=click.FloatRange(min=0.5, max=3600),
    default=LEASE,
    show_default=True,
    metavar="SECONDS",
    help="With workers: how long a worker's claim on its recipients lasts without renewal; those a "
    "worker that died had claimed but not started go to the others after it.",
)


def exit_code(report: SendReport) -> int:
    if report.error is not None:
        raise report.error
    if report.interrupted is not None:
        return 128 + report.interrupted
    return 0


def confirm(subject: str, count: int, destination: str, yes: bool) -> bool:
    """Ask before real mail goes out; refuse when nobody can answer. False: the person said no."""
    if yes or count == 0:
        return True
    if not sys.stdin.isatty():
        raise InputError(
            "refusing to send without confirmation: stdin is not a terminal", hint="pass --yes to send from a script"
        )
    noun = "subscriber" if count == 1 else "subscribers"
    return click.confirm(f'Send "{subject}" to {count:,} {noun} via {destination}?', default=False)


@click.command()
@issue_argument
@click.option(
    "--subscribers",
    "csv_path",
    type=click.Path(path_type=Path),
    default=None,
    help="A one-off subscriber CSV instead of the list in the database (same consent, suppression and journal rules).",
)
@click.option("--dry-run", is_flag=True, help="Build and check every message; write, send and record nothing.")
@click.option(
    "--to",
    "test_addresses",
    multiple=True,
    metavar="EMAIL",
    help="Test send: the real message to this address only (repeatable); not recorded as the send.",
)
@click.option(
    "--edition",
    default=None,
    help="With --to: which ward edition the test copy is (its key, as `status` shows it, or a ward it "
    "is for); default: the edition for everyone.",
)
@click.option(
    "--out",
    "outbox_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The outbox folder when no SMTP relay is set (default: outbox/<issue-slug>/; for --to, "
    "outbox/<issue-slug>-test/).",
)
@click.option(
    "--outbox",
    "outbox_old",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="The earlier name of --out.",
)
@journal_option
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Send to at most N subscribers this run.")
@click.option("--ward", "wards", multiple=True, help="Only subscribers in this ward (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Only subscribers with this tag (repeatable).")
@click.option(
    "--resend-unknown",
    is_flag=True,
    help="Also send to recipients left 'sending' by an interrupted send (they may get it twice).",
)
@click.option("--retry-failed", is_flag=True, help="Try again the recipients whose delivery failed before.")
@click.option(
    "--not-after",
    "not_after_raw",
    metavar="TIME",
    default=None,
    help="Refuse to start, and take no new recipient, after this time (e.g. 2026-05-04T18:00; "
    "local time unless it has an offset): for scheduled sends that start late.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Share the send among N worker processes started here (more can join from other hosts with "
    "`newsletter worker`); without it, this process sends alone.",
)
@lease_option
@click.option(
    "--allow-missing-images",
    is_flag=True,
    help="Send to the list even though the issue's pictures do not answer at NEWSLETTER_ARCHIVE_URL "
    "(readers see broken pictures until the archive is uploaded).",
)
@click.option(
    "--override-rule",
    "override_rule",
    metavar="TEXT",
    default=None,
    help="Send although today is in the election period (NEWSLETTER_DISSOLUTION to NEWSLETTER_POLLING_DAY); "
    "the reason is kept in the audit log.",
)
@click.option("--yes", is_flag=True, help="Send without asking for confirmation (for scripts).")
def send(
    issue: str,
    csv_path: Path | None,
    dry_run: bool,
    test_addresses: tuple[str, ...],
    edition: str | None,
    outbox_dir: Path | None,
    outbox_old: Path | None,
    journal_path: Path | str | None,
    limit: int | None,
    wards: tuple[str, ...],
    tags: tuple[str, ...],
    resend_unknown: bool,
    retry_failed: bool,
    not_after_raw: str | None,
    workers: int | None,
    lease: float,
    allow_missing_images: bool,
    override_rule: str | None,
    yes: bool,
) -> int:
    """Send ISSUE to every subscriber who consented: over SMTP when SMTP_HOST (or SMTP_URLS) is
    set, otherwise to the outbox folder. The journal records every recipient, so running the
    same command again after an interruption sends only to those not yet sent.

    Check first with --dry-run, then send a test to yourself with --to you@office.example.

    \b
    Example:
        newsletter send spring-2018 --yes
    """
    options = SendOptions(
        csv_path=csv_path,
        dry_run=dry_run,
        test_addresses=test_addresses,
        edition=edition,
        outbox_dir=outbox_dir or outbox_old,
        journal_path=journal_path,
        limit=limit,
        wards=wards,
        tags=tags,
        resend_unknown=resend_unknown,
        retry_failed=retry_failed,
        not_after=not_after_raw,
        share=Share(workers, lease, journal_path) if workers is not None else None,
        allow_missing_images=allow_missing_images,
        override_rule=override_rule,
    )
    home = project(issue)
    with prepare_send(issue, home, options) as prepared:
        err_console().print(prepared.headline, highlight=False, soft_wrap=True)
        if not dry_run:
            staff(home)  # a note at the end when the audit log names only the OS user
        for note in prepared.notes:
            err_console().print(f"note: {note}", highlight=False)
        if prepared.audience is not None:
            print_audience(prepared.audience, details=dry_run)
        if dry_run:
            print_summary(prepared.run())
            return 0
        if prepared.needs_confirmation and not confirm(prepared.subject, prepared.count, prepared.destination, yes):
            err_console().print("nothing sent: the send was not confirmed", highlight=False)
            return 1
        with progress_display(prepared.count) as show:
            report = prepared.run(progress=show, warn=warn)
    if prepared.test_addresses:
        print_summary(report)
        return exit_code(report)
    again = [
        "newsletter",
        "send",
        issue,
        *(["--subscribers", str(csv_path)] if csv_path else []),
        *(["--database", shown(journal_path)] if journal_path else []),  # a URL's password is never printed
        *(f"--ward={w}" for w in wards),
        *(f"--tag={t}" for t in tags),
        *(["--retry-failed"] if retry_failed else []),
        *(["--allow-missing-images"] if allow_missing_images else []),
        *(["--override-rule", override_rule] if override_rule else []),
        "--yes",
    ]
    print_summary(report, again=shlex.join(again))
    return exit_code(report)


def warn(line: str) -> None:
    err_console().print(styled(("warning:", "yellow"), " ", line))


def register(group: click.Group) -> None:
    group.add_command(send)
