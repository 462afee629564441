"""Bounce and reply intake: a mailbox of DSNs, complaints and unsubscribe mails -> suppressions.

Hard bounces (5.x.x), complaints and unsubscribe requests suppress at once. Soft bounces
(4.x.x) are counted per issue and suppress once an address has soft-bounced on
NEWSLETTER_SOFT_BOUNCE_LIMIT separate issues (default 3): a full mailbox on one send is not
a dead address, the same one three sends running is. Every event is stored under the
bounce's own Message-ID, so importing the same mailbox again changes nothing but the audit log:
each import writes one `suppression.add` entry (the mailbox's name and digest, what it added, by
whom) in the transaction of the suppressions it adds, never an address.
"""

from __future__ import annotations

import email
import hashlib
import mailbox
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from newsletter import audit
from newsletter.audience.dsn import COMPLAINT, HARD, SOFT, UNSUBSCRIBE, Finding, classify
from newsletter.audience.tokens import verify_token
from newsletter.audit.actions import file_facts
from newsletter.errors import InputError
from newsletter.gates import values
from newsletter.gates.address import check_address
from newsletter.settings import Settings
from newsletter.store import Connection, suppressions
from newsletter.store.database import now, transaction

DEFAULT_SOFT_LIMIT = 3
SETTINGS = ("NEWSLETTER_SOFT_BOUNCE_LIMIT",)
REASON_OF = {HARD: "hard-bounce", SOFT: "soft-bounce", COMPLAINT: "complaint", UNSUBSCRIBE: "unsubscribed"}


@dataclass
class ImportReport:
    """What an import did: one line per event, and counts for the closing summary."""

    path: Path
    messages: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)


def soft_limit(env: Mapping[str, str]) -> int:
    return values.whole_number(
        "NEWSLETTER_SOFT_BOUNCE_LIMIT", env.get("NEWSLETTER_SOFT_BOUNCE_LIMIT", str(DEFAULT_SOFT_LIMIT))
    )


def open_mailbox(path: Path) -> mailbox.Mailbox[mailbox.Message]:
    """An mbox file or a Maildir folder, or one line saying why not."""
    if path.is_dir():
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise InputError(f"{path}: not a Maildir folder (no cur/ and new/ inside)")
        return mailbox.Maildir(path, create=False)
    if not path.is_file():
        raise InputError(f"{path}: mailbox not found (give an mbox file or a Maildir folder)")
    with path.open("rb") as handle:
        start = handle.read(5)
    if start and start != b"From ":
        raise InputError(f"{path}:1: not an mbox file (it must start with a 'From ' line)")
    return mailbox.mbox(path, create=False)


UNREADABLE = "skipped (unreadable)"


def _read(box: mailbox.Mailbox[mailbox.Message], key: str) -> tuple[str, Message]:
    """(event key, message): the message's own Message-ID, or a hash of its bytes."""
    raw = box.get_bytes(key)
    message = email.message_from_bytes(raw)
    own_id = _readable(" ".join(str(message.get("Message-ID", "")).split()))
    return own_id or "sha256:" + hashlib.sha256(raw).hexdigest(), message


def _readable(text: str) -> str:
    """Text from a stranger's message as storable text: undecodable bytes (8-bit headers come
    back as lone surrogates, which SQLite refuses) and controls become U+FFFD."""
    clean = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("\ufffd" if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in clean)


def _findings(message: Message, mailto: str) -> tuple[list[Finding], str]:
    """`classify`, with every field made storable."""
    findings, token = classify(message, mailto)
    cleaned = [
        Finding(
            f.kind,
            _readable(f.email),
            _readable(f.status),
            _readable(f.detail),
            _readable(f.original_id),
            _readable(f.issue),
        )
        for f in findings
    ]
    return cleaned, _readable(token)


def journal_match(db: Connection, message_id: str) -> tuple[str, str] | None:
    """(issue, email) the sender recorded for this Message-ID, if the journal has it."""
    if not message_id:
        return None
    row = db.execute(
        "SELECT issue, email FROM deliveries WHERE message_id IN (?, ?) LIMIT 1",
        (message_id, message_id.strip("<>")),
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


class Importer:
    """Applies the findings of one mailbox inside one transaction."""

    def __init__(self, db: Connection, settings: Settings, report: ImportReport, limit: int) -> None:
        self.db = db
        self.settings = settings
        self.report = report
        self.limit = limit
        self.secrets = [settings.unsubscribe_secret, *settings.previous_secrets]

    def _address(self, finding: Finding, token: str) -> tuple[str, str, str]:
        """(address, issue, how it was matched)."""
        if finding.kind == UNSUBSCRIBE:
            named = verify_token(token, self.settings.list_id, self.secrets) if token else None
            if named:
                return named.lower(), "", "signed token"
            return finding.email.lower(), "", "From address (no valid token)"
        matched = journal_match(self.db, finding.original_id)
        if matched:
            return matched[1].lower(), matched[0], f"Message-ID {finding.original_id}"
        return finding.email.lower(), finding.issue, "recipient address"

    def apply(self, event_key: str, finding: Finding, token: str) -> None:
        email, issue, how = self._address(finding, token)
        try:
            email = check_address(email).lower()
        except ValueError:
            self.report.counts["unmatched"] += 1
            self.report.lines.append(f"unmatched {finding.kind}: no usable address ({finding.detail[:80]})")
            return
        issue_key = issue or f"unknown:{finding.original_id or event_key}"
        cursor = self.db.execute(
            "INSERT INTO bounce_events (event_key, email, kind, issue, status, detail, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (event_key, email, finding.kind, issue_key, finding.status, finding.detail[:500], now("seconds")),
        )
        if cursor.rowcount == 0:
            self.report.counts["already imported"] += 1
            return
        label = {HARD: "hard bounce", SOFT: "soft bounce", COMPLAINT: "complaint", UNSUBSCRIBE: "unsubscribe"}
        what = f"{label[finding.kind]} {email}" + (f" {finding.status}" if finding.status else "")
        source = f"bounces {self.report.path.name}: {how}" + (f", issue {issue}" if issue else "")
        if finding.kind == SOFT:
            seen = self._soft_issues(email)
            if seen < self.limit:
                self.report.counts["soft bounce counted"] += 1
                self.report.lines.append(f"{what}: counted ({seen} of {self.limit} issues)")
                return
            detail = f"soft bounces on {seen} issues; last: {finding.detail}"
        else:
            detail = finding.detail
        added = suppressions.add(self.db, email, REASON_OF[finding.kind], source, detail)
        self.report.counts[f"{REASON_OF[finding.kind]} suppressed" if added else "already suppressed"] += 1
        self.report.lines.append(f"{what}: " + ("suppressed" if added else "already suppressed") + f" ({how})")

    def _soft_issues(self, email: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(DISTINCT issue) FROM bounce_events WHERE email = ? AND kind = ? AND cleared = 0",
            (email, SOFT),
        ).fetchone()
        return int(row[0])


def import_mailbox(path: Path, settings: Settings, staff: audit.Staff | None = None) -> ImportReport:
    """Read every message of a mailbox and apply what it says, all in one transaction, with its
    audit entry naming `staff` (the settings' staff member when not given)."""
    who = staff or audit.current(settings)
    limit = soft_limit(settings.env)  # a bad setting is refused before the database is opened
    box = open_mailbox(path)
    report = ImportReport(path)
    db = suppressions.connect(settings.journal_path)
    try:
        importer = Importer(db, settings, report, limit)
        with transaction(db):
            for key in box.iterkeys():
                report.messages += 1
                # Anyone can mail the bounce address: a message nobody can parse (an unknown
                # charset, 8-bit headers, MIME nested a thousand deep) is skipped and named,
                # and the import goes on.
                try:
                    event_key, message = _read(box, key)
                    findings, token = _findings(message, settings.unsubscribe_mailto)
                except Exception as exc:
                    report.counts[UNREADABLE] += 1
                    reason = " ".join(str(exc).split())[:120] or type(exc).__name__
                    report.lines.append(f"message {key}: skipped, cannot be read ({type(exc).__name__}: {reason})")
                    continue
                if not findings:
                    report.counts["not a bounce"] += 1
                for finding in findings:
                    importer.apply(event_key, finding, token)
            audit.record(db, "suppression.add", staff=who, details=_entry_details(report))
    finally:
        db.close()
        box.close()
    return report


def _entry_details(report: ImportReport) -> dict[str, object]:
    """The import's audit entry: the mailbox, and counts by reason (never an address)."""
    added = {reason: report.counts[f"{reason} suppressed"] for reason in sorted(set(REASON_OF.values()))}
    return {
        **file_facts(report.path),
        "source": "bounces import",
        "messages": report.messages,
        "added": sum(added.values()),
        "reasons": {reason: n for reason, n in added.items() if n},
        "already": report.counts["already suppressed"],
    }
