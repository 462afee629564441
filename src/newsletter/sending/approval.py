"""Two-person approval: a send to more than NEWSLETTER_APPROVAL_ABOVE readers needs a second person.

One person with one command could send a draft to 60,000 constituents. With the setting on,
such a send through a relay goes out only after `newsletter approve ISSUE` by a member of staff
other than the one who sends (staff as `audit.identity` names them). The approval is an `approve`
entry of the audit log holding the fingerprint of what will go out (`sending.fingerprint`); the
send computes the fingerprint again and goes only if an approval by someone else matches it. If
none does, the refusal says what changed since the newest approval, and by whom and when it was
given. A test copy, a dry run and a rehearsal into the outbox folder need no approval: nothing
reaches the list. The person's name is what their desk says it is (NEWSLETTER_STAFF): this is a
second pair of eyes against mistakes, not a lock against someone who means harm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsletter import audit
from newsletter.audience.csvfile import load_audience
from newsletter.audience.recipients import Recipients, select
from newsletter.content.issue import find_issue
from newsletter.errors import InputError
from newsletter.gates import values
from newsletter.gates.text import shown
from newsletter.mail.compose import Composed, compose
from newsletter.project import Project
from newsletter.sending.fingerprint import Fingerprint, changes, fingerprint
from newsletter.settings import Settings
from newsletter.store import Connection, Location, exists, open_store, transaction
from newsletter.store.journal import SMTP, Journal

SETTING = "NEWSLETTER_APPROVAL_ABOVE"
SETTINGS = (SETTING,)
ACTION = "approve"


def threshold(settings: Settings) -> int | None:
    """NEWSLETTER_APPROVAL_ABOVE: sends to more readers than this need approval (None: off)."""
    raw = settings.env.get(SETTING, "").strip()
    return values.whole_number(SETTING, raw, minimum=0) if raw else None


def audience_size(recipients: Recipients, issue: str) -> int:
    """How many readers the send is for: everyone in the segment who may get it, those who
    already have it included (a resumed send is the send that was approved)."""
    return sum(1 for _, reason, _ in recipients.rows(issue) if reason is None)


def segment(wards: Sequence[str], tags: Sequence[str], one_off: Path | None, audience: object) -> str:
    """Who the send is for, in words: the list, its ward and tag filters and the issue's own
    `audience:`; two sends of one issue to different segments need two approvals."""
    words = [f"the list in {one_off}" if one_off is not None else "the list in the database"]
    if wards:
        words.append("wards " + ", ".join(sorted(" ".join(w.split()) for w in wards)))
    if tags:
        words.append("tags " + ", ".join(sorted(t.strip().lower() for t in tags)))
    if audience:
        words.append(f"the issue's audience {audience}")
    return "; ".join(words)


@dataclass(frozen=True)
class Approval:
    """The approval a send goes out under."""

    by: str
    at: str
    entry: int


def facts(approval: Approval | None) -> dict[str, object]:
    """What `send.started` says of the approval it went out under (nothing when none was needed)."""
    return {} if approval is None else {"approved_by": approval.by, "approval_entry": approval.entry}


def when(entry: audit.Entry) -> str:
    return entry.at.strftime("%Y-%m-%d %H:%M UTC")


def check(
    db: Connection, settings: Settings, composed: Composed, recipients: Recipients, segment_text: str, *, refuse: bool
) -> tuple[Approval | None, list[str]]:
    """The approval a send of `composed` to `recipients` goes out under, None when it needs none.
    Without a valid one: raise (`refuse`, a real send) or say so in a note (a dry run)."""
    limit = threshold(settings)
    slug = composed.issue.slug
    if limit is None:
        return None, []
    size = audience_size(recipients, slug)
    if size <= limit:
        return None, []
    now = fingerprint(composed, size, segment_text)
    sender = audit.current(settings)
    approvals = list(reversed(audit.entries(db, issue=slug, action=ACTION)))
    matching = [e for e in approvals if Fingerprint.from_details(e.details).digest == now.digest]
    others = [e for e in matching if _person(e.staff) != _person(sender.name)]
    if others:
        return Approval(others[0].staff, when(others[0]), others[0].id), [
            f"approved by {others[0].staff} at {when(others[0])}"
        ]
    needs = f"a send to {size:,} readers (more than {SETTING}={limit}) needs approval by another member of staff"
    if matching:
        problem = f"{needs}: {sender.name} approved it and cannot also send it"
        hint = f"ask a colleague to run `newsletter approve {slug}`, or to send it themselves"
    elif approvals:
        newest = approvals[0]
        what = "; ".join(changes(Fingerprint.from_details(newest.details), now))
        problem = f"the approval no longer holds: {what} since the approval by {newest.staff} at {when(newest)}"
        hint = f"look at the issue again, then another member of staff runs `newsletter approve {slug}`"
    else:
        problem = f"{needs}: nobody has approved {slug}"
        hint = f"another member of staff runs `newsletter approve {slug}` (it shows what it approves)"
    if refuse:
        raise InputError(f"refusing to send: {problem}", hint=hint)
    return None, [f"a real send would be refused: {problem}"]


def _person(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class ApproveOptions:
    """What `newsletter approve` was asked to approve: the send with the same options."""

    csv_path: Path | None = None
    journal_path: Location | None = None
    wards: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


class PendingApproval:
    """An approval computed and shown, not yet recorded: `record()` after the person agrees."""

    def __init__(self, composed: Composed, found: Fingerprint, staff: audit.Staff, database: Location) -> None:
        self.composed = composed
        self.fingerprint = found
        self.staff = staff
        self.database = database
        self.limit = threshold(composed.settings)

    @property
    def issue(self) -> str:
        return self.composed.issue.slug

    def summary(self) -> list[str]:
        """What is being approved, as the person should read it before saying yes."""
        found = self.fingerprint
        lines = [
            f"Approving {self.issue} for {self.staff}:",
            f"  subject: {found.subject}",
            f"  editions: {'; '.join(found.editions)}",
            f"  audience: {found.audience:,} readers ({found.segment})",
        ]
        if self.limit is None:
            lines.append(f"  note: {SETTING} is not set: no send needs this approval yet")
        elif found.audience <= self.limit:
            lines.append(f"  note: {found.audience:,} is not more than {SETTING}={self.limit}: this send needs none")
        return lines

    def record(self) -> audit.Entry:
        """The `approve` entry (the database is created now if this is the list's first use)."""
        with open_store(self.database) as store, transaction(store.db):
            return audit.record(
                store.db, ACTION, staff=self.staff, issue=self.issue, details=self.fingerprint.details()
            )


def prepare_approval(issue: str, home: Project, options: ApproveOptions) -> PendingApproval:
    """Compose the issue and count its audience exactly as `send` with the same options would,
    and fingerprint it. Writes nothing: a list never used yet is read as its first send would
    import it (like a dry run), and the database is opened for writing only by `record()`."""
    composed = compose(find_issue(issue, home.root), home.settings())
    database = options.journal_path or composed.settings.journal_path
    one_off = load_audience(options.csv_path) if options.csv_path is not None else None
    with Journal(database if exists(database) else Path(":memory:"), route=SMTP) as journal:
        chosen = select(
            journal,
            database,
            composed.issue,
            one_off,
            home.subscriber_list()[0],
            wards=options.wards,
            tags=options.tags,
            write=False,
        )
        size = audience_size(chosen.recipients, composed.issue.slug)
    text = segment(options.wards, options.tags, options.csv_path, composed.issue.audience)
    if size == 0:
        raise InputError(f"nothing to approve: a send of {shown(issue, 60)} would reach nobody ({text})")
    return PendingApproval(composed, fingerprint(composed, size, text), audit.current(composed.settings), database)
