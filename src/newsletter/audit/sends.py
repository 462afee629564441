"""A send's entries: started (audience size, route, segment), finished (counts), refused, a test
copy, and `settings.changed` when the settings that shape what is sent differ from the last ones
recorded.

The sending package builds one `SendRecord` per prepared send and calls it inside the journal's
own transactions (the run's `sends` row and its entry commit together). The settings compared
are the outward-facing ones (sender, reply-to, list id, footer, links, relay, DKIM selector);
secrets (UNSUBSCRIBE_SECRET, SMTP_PASSWORD, DKIM_PRIVATE_KEY) are never read here, and an
SMTP_URLS password is cut out before anything is compared or written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from newsletter.audit.identity import Staff
from newsletter.audit.log import record
from newsletter.settings import DEFAULTS
from newsletter.store import suppressions
from newsletter.store.connection import Connection, Location
from newsletter.store.database import connect, exists, transaction
from newsletter.store.errors import StorageError

__all__ = ["SENT_SETTINGS", "SendRecord", "fingerprint", "refused"]

# What a reader receives depends on these (and on the issue's files): a change between two sends
# is what a records request asks about. Never a secret.
SENT_SETTINGS = (
    "NEWSLETTER_FROM",
    "NEWSLETTER_REPLY_TO",
    "NEWSLETTER_LIST_ID",
    "NEWSLETTER_REPRESENTATIVE",
    "NEWSLETTER_CONSTITUENCY",
    "NEWSLETTER_POSTAL_ADDRESS",
    "NEWSLETTER_WEBSITE",
    "NEWSLETTER_ARCHIVE_URL",
    "NEWSLETTER_FOOTER_NOTE",
    "NEWSLETTER_PREFERENCES_URL",
    "UNSUBSCRIBE_URL",
    "UNSUBSCRIBE_MAILTO",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_SECURITY",
    "SMTP_URLS",
    "DKIM_DOMAIN",
    "DKIM_SELECTOR",
)


def _without_password(urls: str) -> str:
    """SMTP_URLS with any password replaced by `***` (the host, port and user stay)."""
    shown = []
    for url in urls.split(","):
        parts = urlsplit(url.strip())
        if parts.password is not None:
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            with contextlib.suppress(ValueError):
                parts = parts._replace(netloc=f"{parts.username}:***@{host}{port}")
        shown.append(urlunsplit(parts))
    return ",".join(shown)


def fingerprint(env: Mapping[str, str]) -> dict[str, str]:
    """The values of SENT_SETTINGS as this send uses them (a default counts as its value)."""
    values = {name: env.get(name, DEFAULTS.get(name, "")).strip() for name in SENT_SETTINGS}
    values["SMTP_URLS"] = _without_password(values["SMTP_URLS"]) if values["SMTP_URLS"] else ""
    return values


def _last_settings(db: Connection) -> dict[str, str] | None:
    row = db.execute(
        "SELECT details FROM audit_log WHERE action = 'settings.changed' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    with contextlib.suppress(ValueError, AttributeError):
        kept = json.loads(row[0]).get("settings")
        if isinstance(kept, dict):
            return {str(k): str(v) for k, v in kept.items()}
    return {}


@dataclass
class SendRecord:
    """A send's entries, written by the journal inside its own run transactions (it holds this as
    its `audit` hook): the staff member, the settings fingerprint, the send's facts (route,
    audience, segment), the test copy's addresses, and where its counts are read at the end."""

    staff: Staff
    issue: str
    settings: Mapping[str, str]
    details: dict[str, object] = field(default_factory=dict)
    test_addresses: Sequence[str] = ()
    counts: Callable[[], Mapping[str, int]] | None = None

    def settings_changed(self, db: Connection) -> None:
        """One `settings.changed` entry naming every setting whose value differs from the last
        recorded one (the first send records them all, from nothing)."""
        before = _last_settings(db)
        now = dict(self.settings)
        if before == now:
            return
        old = before or {}
        changed = {name: {"old": old.get(name), "new": value} for name, value in now.items() if old.get(name) != value}
        record(
            db, "settings.changed", staff=self.staff, issue=self.issue, details={"changed": changed, "settings": now}
        )

    def run_started(self, db: Connection, kind: str) -> None:
        if kind == "send":
            self.settings_changed(db)
            record(db, "send.started", staff=self.staff, issue=self.issue, details=self.details)

    def run_finished(self, db: Connection, kind: str, outcome: str) -> None:
        if kind == "test":  # to whom by keyed hash only: a tester may one day be erased too
            hashes = [suppressions.email_hash(db, a.strip().lower()) for a in self.test_addresses]
            details = {**self.details, "to": hashes, "outcome": outcome}
            record(db, "send.test", staff=self.staff, issue=self.issue, details=details)
            return
        counts = dict(self.counts()) if self.counts is not None else {}
        details = {**self.details, "outcome": outcome.partition(":")[0], **counts}
        record(db, "send.finished", staff=self.staff, issue=self.issue, details=details)


def refused(location: Location, issue: str, reason: str, staff: Staff, **facts: object) -> None:
    """Log a refused send in the database at `location` if there is one (a refusal never creates
    it); best effort: a database that cannot be opened is the refusal's own story."""
    if not exists(location):
        return
    with contextlib.suppress(StorageError), connect(location) as db, transaction(db):
        record(db, "send.refused", staff=staff, issue=issue, details={"reason": reason, **facts})
