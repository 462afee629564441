"""The append-only log of consent events: what happened to a subscription, when, and the evidence.

Kinds used: imported, signed-up, confirmed, preferences-changed, added, edited, unsubscribed,
resubscribed, removed, suppressed, erased. Evidence is the import file and row, or the form's
version and the exact wording shown with the IP address and user agent, or the staff action
(an edit: the old and new value of each changed field, and the staff member as `actor`). Rows are never
updated; only erasure (a privacy request) deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.store.connection import Connection
from newsletter.store.database import now

DETAIL_MAX = 2000


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why and how a change happened; `source` is e.g. "import", "web-form", "staff", "bounce"."""

    source: str
    detail: str = ""
    wording: str = ""
    ip: str = ""
    user_agent: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One recorded event about one address."""

    id: int
    email: str
    kind: str
    at: str
    source: str
    detail: str
    wording: str
    ip: str
    user_agent: str
    actor: str


def _clip(text: str) -> str:
    return text[:DETAIL_MAX]


def record(db: Connection, email: str, kind: str, evidence: Evidence, at: str | None = None) -> None:
    """Append one event (part of the caller's transaction)."""
    db.execute(
        "INSERT INTO consent_events (email, kind, at, source, detail, wording, ip, user_agent, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            email.lower(),
            kind,
            at or now(),
            _clip(evidence.source),
            _clip(evidence.detail),
            evidence.wording,
            _clip(evidence.ip),
            _clip(evidence.user_agent),
            _clip(evidence.actor),
        ),
    )


def events(db: Connection, email: str) -> list[ConsentEvent]:
    """Every event about one address, oldest first."""
    rows = db.execute(
        "SELECT id, email, kind, at, source, detail, wording, ip, user_agent, actor FROM consent_events "
        "WHERE email = ? ORDER BY id",
        (email.strip().lower(),),
    )
    return [ConsentEvent(*row) for row in rows]
