"""`newsletter send`: deliver an issue over SMTP (or to the outbox), resumably; or dry-run it."""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
import sys
from pathlib import Path

import click

from newsletter.audience.recipients import select
from newsletter.cli.common import composed_issue, issue_argument, project
from newsletter.cli.console import err_console, styled
from newsletter.cli.progress import print_summary, progress_display
from newsletter.cli.subscribers import print_audience
from newsletter.delivery.base import Backend
from newsletter.delivery.outbox import Outbox
from newsletter.delivery.relays import smtp_settings
from newsletter.delivery.smtp import SmtpBackend
from newsletter.errors import InputError, NewsletterError
from newsletter.gates.headers import addr_spec
from newsletter.sending.plan import plan
from newsletter.sending.report import SendReport
from newsletter.sending.run import dry_run as check_every_message
from newsletter.sending.run import loop_options, send_issue, test_send
from newsletter.store.journal import Journal
from newsletter.store.locks import SendLock, acquire

journal_option = click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The database file (default: $NEWSLETTER_DATABASE or .newsletter/newsletter.sqlite3 in the project).",
)


def exit_code(report: SendReport) -> int:
    if report.error is not None:
        raise report.error
    if report.interrupted is not None:
        return 128 + report.interrupted
    return 0


def test_address(raw: str) -> str:
    """One `--to` address: exactly one plain address (no name, no comma, no line break)."""
    return addr_spec(raw.strip(), f"--to {raw[:80]!r}")


def confirm(subject: str, count: int, destination: str, yes: bool) -> None:
    """Ask before real mail goes out; refuse when nobody can answer."""
    if yes or count == 0:
        return
    if not sys.stdin.isatty():
        raise InputError(
            "refusing to send without confirmation: stdin is not a terminal", hint="pass --yes to send from a script"
        )
    noun = "subscriber" if count == 1 else "subscribers"
    if not click.confirm(f'Send "{subject}" to {count:,} {noun} via {destination}?', default=False):
        raise click.Abort()


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
@click.option("--yes", is_flag=True, help="Send without asking for confirmation (for scripts).")
def send(
    issue: str,
    csv_path: Path | None,
    dry_run: bool,
    test_addresses: tuple[str, ...],
    edition: str | None,
    outbox_dir: Path | None,
    outbox_old: Path | None,
    journal_path: Path | None,
    limit: int | None,
    wards: tuple[str, ...],
    tags: tuple[str, ...],
    resend_unknown: bool,
    retry_failed: bool,
    not_after_raw: str | None,
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
    test_addresses = tuple(test_address(raw) for raw in test_addresses)
    if edition is not None and not test_addresses:
        raise InputError("--edition chooses the edition of a test copy: use it with --to EMAIL")
    if dry_run and test_addresses:
        # Silently ignoring one of them would either send mail the user meant to check, or
        # check the whole list when the user meant one test copy.
        raise InputError(
            "--dry-run and --to do different things: --dry-run checks the send to the list, "
            "--to sends a test copy now; give one of them"
        )
    not_after = deadline(not_after_raw) if not_after_raw is not None else None
    home = project(issue)
    composed = composed_issue(issue, home)
    chosen_edition = composed.edition_named(edition) if edition is not None else None
    settings = composed.settings
    smtp = smtp_settings(settings.env)
    options = loop_options(smtp)
    backend: Backend
    if smtp is not None:
        backend = SmtpBackend(smtp, settings.from_address)
        example = settings.example_values_in_use()
        if example and not dry_run:
            raise InputError(
                f"refusing to send real mail: {'; '.join(example)}",
                hint="set real values in .env (see .env.example); --dry-run works meanwhile",
            )
    else:
        # A test copy gets its own folder, so the real issue's outbox holds only the real send.
        default = home.root / "outbox" / (f"{composed.issue.slug}-test" if test_addresses else composed.issue.slug)
        backend = Outbox(outbox_dir or outbox_old or default)
    journal_file = journal_path or settings.journal_path
    if test_addresses and not dry_run:
        with Journal(journal_file) as journal, progress_display(len(test_addresses)) as show:
            report = test_send(
                composed,
                test_addresses,
                backend,
                journal,
                options,
                progress=show,
                not_after=not_after,
                edition=chosen_edition,
            )
        print_summary(report)
        return exit_code(report)

    # A dry run writes nothing: without a database yet it plans against an empty journal.
    opened = journal_file if journal_file.exists() or not dry_run else Path(":memory:")
    # A real send takes the issue's lock before it decides who to send to: a second send that
    # planned from the same journal would send everybody again once the first had finished.
    locked: contextlib.AbstractContextManager[SendLock | None] = (
        contextlib.nullcontext() if dry_run else acquire(journal_file, composed.issue.slug)
    )
    with Journal(opened) as journal, locked as lock:
        chosen = select(
            journal,
            journal_file,
            composed.issue,
            csv_path,
            home.subscriber_list()[0],
            wards=wards,
            tags=tags,
            write=not dry_run,
        )
        for note in chosen.notes:
            err_console().print(f"note: {note}", highlight=False)
        if chosen.audience is not None:
            print_audience(chosen.audience, details=dry_run)
            if chosen.audience.rows == 0 and not dry_run:
                raise InputError(
                    f"{chosen.audience.path}: the subscriber list has a header but no rows: nothing to send"
                )
        planned = plan(
            journal,
            composed.issue.slug,
            chosen.recipients,
            resend_unknown=resend_unknown,
            retry_failed=retry_failed,
            limit=limit,
        )
        if dry_run:
            print_summary(check_every_message(composed, planned))
            return 0
        if smtp is not None:
            confirm(composed.rendered.subject, planned.report.total, backend.describe(), yes)
        with progress_display(planned.report.total) as show:
            report = send_issue(
                composed,
                planned,
                backend,
                journal,
                options,
                progress=show,
                not_after=not_after,
                guard=lambda: lock.lost if lock is not None else None,
                warn=warn,
            )
    again = [
        "newsletter",
        "send",
        issue,
        *(["--subscribers", str(csv_path)] if csv_path else []),
        *(["--journal", str(journal_path)] if journal_path else []),
        *(f"--ward={w}" for w in wards),
        *(f"--tag={t}" for t in tags),
        *(["--retry-failed"] if retry_failed else []),
        "--yes",
    ]
    print_summary(report, again=shlex.join(again))
    return exit_code(report)


def warn(line: str) -> None:
    err_console().print(styled(("warning:", "yellow"), " ", line))


def deadline(raw: str) -> dt.datetime:
    """`--not-after`: an ISO 8601 date and time (local time unless it has an offset); refuses
    to start once it has passed."""
    try:
        when = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"--not-after: {raw[:40]!r} is not a date and time like 2026-05-04T18:00") from None
    when = when.astimezone() if when.tzinfo is None else when
    if dt.datetime.now(dt.UTC) > when:
        raise LateStart(
            f"not starting: it is past --not-after {when.isoformat(timespec='minutes')}",
            hint="a scheduled send that starts this late is left for a person to start",
        )
    return when


class LateStart(NewsletterError):
    """A scheduled send whose time has passed (a failure while working: exit 1)."""


def register(group: click.Group) -> None:
    group.add_command(send)
