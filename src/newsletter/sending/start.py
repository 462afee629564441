"""`newsletter send` from its options to a send ready to run: the one entry point the CLI calls.

`prepare_send` makes every decision before any mail goes out, in this order: the options
agree with each other, the issue composes, the backend is chosen (SMTP when a relay is set,
else the outbox folder), example settings are refused for real mail, a one-off subscriber
file is read (every refusal comes before the database is opened, so a refused send creates
nothing), the journal of the backend's route is opened (a rehearsal into the outbox never
counts as sent for a relay), the issue's send lock is taken (before planning: a second send
that planned from the same journal would send everybody again once the first had finished),
the recipients are selected and planned. The CLI then shows what it got (its first line says
where the mail goes: `PreparedSend.headline`), asks its question, and calls `PreparedSend.run`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from newsletter import audit
from newsletter.audience.csvfile import Audience, load_audience, read_rows
from newsletter.audience.recipients import select
from newsletter.checks import images as image_checks
from newsletter.content.issue import find_issue
from newsletter.delivery.base import Backend
from newsletter.delivery.outbox import Outbox
from newsletter.delivery.pacing import LoopOptions
from newsletter.delivery.relays import smtp_settings
from newsletter.delivery.smtp import SmtpBackend
from newsletter.errors import InputError, NewsletterError
from newsletter.gates.address import check_address
from newsletter.gates.headers import addr_spec
from newsletter.mail.compose import Composed, ComposedEdition, compose
from newsletter.project import Project
from newsletter.sending import approval, audited, rules
from newsletter.sending.plan import Plan, plan
from newsletter.sending.report import Progress, SendReport
from newsletter.sending.run import dry_run, loop_options, send_issue, test_send
from newsletter.sending.worker import Share, share_send
from newsletter.store import exists
from newsletter.store.journal import Journal
from newsletter.store.locks import SendLock, acquire

__all__ = ["LateStart", "PreparedSend", "SendOptions", "deadline", "prepare_send"]


@dataclass(frozen=True)
class SendOptions:
    """What `newsletter send` was asked to do, as given on its command line."""

    csv_path: Path | None = None
    dry_run: bool = False
    test_addresses: tuple[str, ...] = ()
    edition: str | None = None
    outbox_dir: Path | None = None
    journal_path: Path | str | None = None  # a SQLite file or a postgresql:// URL
    limit: int | None = None
    wards: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    resend_unknown: bool = False
    retry_failed: bool = False
    not_after: str | None = None
    share: Share | None = None  # --workers N: shared by N local worker processes (and any that join)
    allow_missing_images: bool = False
    override_rule: str | None = None  # --override-rule REASON: send in an election period (sending/rules.py)


class LateStart(NewsletterError):
    """A scheduled send whose time has passed (a failure while working: exit 1)."""


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


def test_address(raw: str) -> str:
    """One `--to` address: exactly one plain address (no name, no comma, no line break) that the
    list itself would take (email-validator's rules: `a@b`, with no dot in the domain, is not)."""
    where = f"--to {raw[:80]!r}"
    plain = addr_spec(raw.strip(), where)
    try:
        return check_address(plain)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


class PreparedSend:
    """A send decided but not started: what the CLI shows and asks about, then `run()`.

    Holds the open journal and the send lock until it is closed (use it as a context manager)."""

    def __init__(
        self,
        composed: Composed,
        backend: Backend,
        loop: LoopOptions,
        where: str,
        relay: bool,
        stack: contextlib.ExitStack,
    ) -> None:
        self.composed = composed
        self.backend = backend
        self.loop = loop
        self.where = where  # "the relay host:587 (STARTTLS)" or "the outbox folder /path"
        self.relay = relay  # True when the mail goes to an SMTP relay (real mail), False for the outbox
        self._stack = stack
        self.journal: Journal | None = None
        self.lock: SendLock | None = None
        self.test_addresses: tuple[str, ...] = ()
        self.edition: ComposedEdition | None = None
        self.planned: Plan | None = None
        self.audience: Audience | None = None  # the one-off or seed CSV, for its per-row report
        self.notes: list[str] = []
        self.dry_run = False
        self.not_after: dt.datetime | None = None
        self.share: Share | None = None
        self.home: Project | None = None
        # Issue 21: a rule overridden (recorded as the send starts) and the approval it goes out under.
        self.override: rules.Override | None = None
        self.approval: approval.Approval | None = None

    @property
    def destination(self) -> str:
        """Where the mail goes: the relay with its port and TLS mode, or the outbox folder."""
        return self.where

    @property
    def route(self) -> str:
        """The journal this send reads and writes: `smtp` (real mail) or `outbox` (a rehearsal)."""
        return self.backend.name

    @property
    def headline(self) -> str:
        """The first line of every send, test send and dry run: where the mail goes. A person
        must never have to guess whether it went to constituents or into a folder."""
        slug = self.composed.issue.slug
        if self.dry_run:
            return f"Dry run of {slug}: nothing is sent or recorded; the send would go to {self.where}."
        if self.relay:
            if self.planned is None:
                return f"Test copy of {slug} to {', '.join(self.test_addresses)} via {self.where}."
            return f"Sending {slug} via {self.where}."
        rehearsal = "a rehearsal: no mail leaves this machine"
        if self.planned is None:
            return f"Test copy of {slug} for {', '.join(self.test_addresses)} into {self.where} ({rehearsal})."
        return f"Sending {slug} into {self.where} ({rehearsal}; it never counts as sent for a send through a relay)."

    @property
    def subject(self) -> str:
        return self.composed.rendered.subject

    @property
    def count(self) -> int:
        """How many recipients this run will try."""
        if self.planned is None:
            return len(self.test_addresses)
        return self.planned.report.total

    @property
    def needs_confirmation(self) -> bool:
        """A real send to the list through a relay is asked about; a test, a dry run or the outbox is not."""
        return self.relay and self.planned is not None and not self.dry_run

    def run(self, *, progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> SendReport:
        """Send (or dry-run) what was prepared; returns the report the CLI summarises."""
        assert self.journal is not None
        if self.planned is None:
            return test_send(
                self.composed,
                self.test_addresses,
                self.backend,
                self.journal,
                self.loop,
                progress=progress,
                not_after=self.not_after,
                edition=self.edition,
            )
        if self.dry_run:
            return dry_run(self.composed, self.planned)
        if self.audience is not None and self.audience.rows == 0:
            raise InputError(f"{self.audience.path}: the subscriber list has a header but no rows: nothing to send")
        if self.override is not None:
            staff = audit.current(self.composed.settings)
            rules.record_override(self.journal.db, self.override, staff, self.composed.issue.slug)
        lock = self.lock
        if self.share is not None and lock is not None and self.home is not None:
            return share_send(
                self.composed,
                self.planned,
                self.journal,
                lock,
                self.home,
                self.share,
                destination=self.backend.describe(),
                progress=progress,
                warn=warn,
            )
        return send_issue(
            self.composed,
            self.planned,
            self.backend,
            self.journal,
            self.loop,
            progress=progress,
            not_after=self.not_after,
            guard=lambda: lock.lost if lock is not None else None,
            warn=warn,
        )

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> PreparedSend:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def published_pictures(composed: Composed, options: SendOptions) -> list[str]:
    """Refuse a send to the list through a relay while a picture of the issue does not answer at
    its URL under the archive: every reader would get a broken-image box. Notes for the send.

    Only that send is asked about. A test copy (`--to`) is how an office looks at the message
    before publishing anything; a dry run sends nothing; a send into the outbox is a rehearsal
    read on this machine, where no reader waits for the pictures (and its messages may be read
    before the archive exists). `--allow-missing-images` sends anyway, without asking the site.
    """
    if options.dry_run or not image_checks.used_pictures(composed):
        return []
    if options.allow_missing_images:
        return ["the pictures were not checked on the archive site (--allow-missing-images)"]
    archive_url = composed.settings.archive_url
    missing = image_checks.unpublished(image_checks.used_pictures(composed), archive_url, image_checks.PublishCheck())
    if missing:
        raise InputError(image_checks.unpublished_summary(missing, archive_url))
    return []


def prepare_send(issue: str, home: Project, options: SendOptions) -> PreparedSend:
    """Decide everything about a send of `issue` (see the module's docstring); sends nothing.
    A refusal of a send (not a dry run) is logged in the audit log when the database exists."""
    try:
        return _prepare(issue, home, options)
    except NewsletterError as exc:
        if not options.dry_run:
            audited.refusal(issue, home, options.journal_path, exc)
        raise


def _prepare(issue: str, home: Project, options: SendOptions) -> PreparedSend:
    addresses = tuple(test_address(raw) for raw in options.test_addresses)
    if options.edition is not None and not addresses:
        raise InputError("--edition chooses the edition of a test copy: use it with --to EMAIL")
    if options.dry_run and addresses:
        # Silently ignoring one of them would either send mail the user meant to check, or
        # check the whole list when the user meant one test copy.
        raise InputError(
            "--dry-run and --to do different things: --dry-run checks the send to the list, "
            "--to sends a test copy now; give one of them"
        )
    if options.share is not None and (addresses or options.dry_run or options.csv_path is not None):
        # Workers claim their recipients from the list of record; a test copy, a dry run or a
        # one-off file has nothing there to share.
        raise InputError(
            "--workers shares a send of the list in the database: not with --to, --dry-run or --subscribers"
        )
    not_after = deadline(options.not_after) if options.not_after is not None else None
    composed = compose(find_issue(issue, home.root), home.settings())
    edition = composed.edition_named(options.edition) if options.edition is not None else None
    settings = composed.settings
    smtp = smtp_settings(settings.env)
    backend: Backend
    if smtp is not None:
        backend = SmtpBackend(smtp, settings.from_address)
        where = smtp.where()
        example = settings.example_values_in_use()
        if example and not options.dry_run:
            raise InputError(
                f"refusing to send real mail: {'; '.join(example)}",
                hint="set real values in .env (see .env.example); --dry-run works meanwhile",
            )
    else:
        # A test copy gets its own folder, so the real issue's outbox holds only the real send.
        folder = f"{composed.issue.slug}-test" if addresses else composed.issue.slug
        outbox = Outbox(options.outbox_dir or home.root / "outbox" / folder)
        backend, where = outbox, f"the outbox folder {outbox.folder}"
    picture_notes = published_pictures(composed, options) if smtp is not None and not addresses else []
    # Issue 21: the election-period rule, before the database is opened (sending/rules.py).
    real = smtp is not None and not addresses and not options.dry_run
    reason = rules.override_reason(options.override_rule)
    override, rule_notes = rules.election_rule(settings, real=real, reason=reason) if not addresses else (None, [])
    journal_file = options.journal_path or settings.journal_path
    seed_list = home.subscriber_list()[0]
    # Files are read before the database is opened: a refused one creates nothing.
    one_off = load_audience(options.csv_path) if options.csv_path is not None and not addresses else None
    if one_off is None and not addresses and not options.dry_run and not exists(journal_file) and seed_list.is_file():
        read_rows(seed_list)  # the first send imports it: its encoding and header are checked now
    stack = contextlib.ExitStack()
    prepared = PreparedSend(composed, backend, loop_options(smtp), where, smtp is not None, stack)
    prepared.not_after = not_after
    prepared.dry_run = options.dry_run
    prepared.share, prepared.home = options.share, home
    try:
        if addresses:
            prepared.test_addresses = addresses
            prepared.edition = edition
            prepared.journal = stack.enter_context(Journal(journal_file, route=backend.name))
            edition_key = {"edition": edition.edition.key} if edition is not None and edition.edition.key else {}
            audited.attach(
                prepared.journal, home, composed.issue.slug, where, test_addresses=addresses, segment=edition_key
            )
            return prepared
        # A dry run writes nothing: without a database yet it plans against an empty journal.
        opened = journal_file if exists(journal_file) or not options.dry_run else Path(":memory:")
        prepared.journal = stack.enter_context(Journal(opened, route=backend.name))
        if not options.dry_run:
            prepared.lock = stack.enter_context(acquire(journal_file, composed.issue.slug))
        chosen = select(
            prepared.journal,
            journal_file,
            composed.issue,
            one_off,
            seed_list,
            wards=options.wards,
            tags=options.tags,
            write=not options.dry_run,
            staff=audit.current(settings),
        )
        prepared.notes = [*picture_notes, *rule_notes, *chosen.notes]
        prepared.override = override
        prepared.audience = chosen.audience
        prepared.planned = plan(
            prepared.journal,
            composed.issue.slug,
            chosen.recipients,
            resend_unknown=options.resend_unknown,
            retry_failed=options.retry_failed,
            limit=options.limit,
        )
        if smtp is not None:  # Issue 21: two-person approval of a send through a relay (sending/approval.py)
            described = approval.segment(options.wards, options.tags, options.csv_path, composed.issue.audience)
            prepared.approval, notes = approval.check(
                prepared.journal.db, settings, composed, chosen.recipients, described, refuse=real
            )
            prepared.notes += notes
        if not options.dry_run:
            segment = {"wards": list(options.wards), "tags": list(options.tags), **approval.facts(prepared.approval)}
            audited.attach(
                prepared.journal, home, composed.issue.slug, where, planned=prepared.planned, segment=segment
            )
    except BaseException:
        stack.close()
        raise
    return prepared
