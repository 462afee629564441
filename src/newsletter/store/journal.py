"""The journal: one SQLite file that is the truth about who got which issue.

Per issue and recipient it holds a state (pending, sending, sent, failed, skipped), the
attempts, the last server reply and the Message-ID. A recipient becomes `sending` (committed)
before its DATA and `sent` after the 250 reply, so after a crash the only uncertain
recipients are the few that were in flight. Writes are buffered and committed in groups:
a commit costs about as much for one row as for a hundred.

The journal is kept per route (`ROUTES`): a send through a relay (`smtp`) reads and writes only
its own rows, so a rehearsal into the outbox folder never counts as sent for the real send.

It lives in the project database (see `database.py`); the bounce intake reads `deliveries`
by Message-ID, and `privacy.py` reads and erases one person's rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Protocol

from newsletter.errors import DeliveryError
from newsletter.store.claims import CLOCK
from newsletter.store.connection import Connection, DatabaseError, Location, is_transient, shown
from newsletter.store.database import StorageError, connect, connect_waiting, now, transaction

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
STATES = (PENDING, SENDING, SENT, FAILED, SKIPPED)
# Where a send's mail went: through a relay (real mail) or into the outbox folder (a rehearsal).
# The names are the delivery backends' (`delivery.base.Backend.name`).
SMTP, OUTBOX = "smtp", "outbox"
ROUTES = (SMTP, OUTBOX)

# Skipped rows never overwrite a recipient who already got (or may have got) the issue.
_SKIP = """INSERT INTO deliveries (issue, route, email, state, reason, created_at, updated_at)
VALUES (?, ?, ?, 'skipped', ?, ?, ?)
ON CONFLICT (issue, route, email) DO UPDATE SET state = 'skipped', reason = excluded.reason,
  updated_at = excluded.updated_at WHERE deliveries.state IN ('pending', 'skipped', 'failed')"""
_PENDING = """INSERT INTO deliveries (issue, route, email, state, created_at, updated_at)
VALUES (?, ?, ?, 'pending', ?, ?)
ON CONFLICT (issue, route, email) DO UPDATE SET state = 'pending', reason = NULL, updated_at = excluded.updated_at
  WHERE deliveries.state = 'skipped'"""
_SENDING = """UPDATE deliveries SET state = 'sending', attempts = attempts + 1, message_id = ?, edition = ?,
  updated_at = ? WHERE issue = ? AND route = ? AND email = ?"""
_SETTLE = """UPDATE deliveries SET state = ?, last_reply = ?, updated_at = ?
  WHERE issue = ? AND route = ? AND email = ?"""
# A worker sharing a send (`claims.py`) marks `sending` only while it still holds the claim.
_SENDING_CLAIMED = {
    backend: _SENDING + " AND state = 'pending' AND claimed_by = ? AND claim_until > " + clock
    for backend, clock in CLOCK.items()
}
# A settled row's lease ends (it is no longer in flight); one pending again keeps it (a retry).
_SETTLE_CLAIMED = """UPDATE deliveries SET state = ?, last_reply = ?, updated_at = ?,
  claim_until = CASE WHEN ? = 'pending' THEN claim_until END
  WHERE issue = ? AND route = ? AND email = ? AND claimed_by = ?"""
_CLAIMED_MARKS = frozenset(_SENDING_CLAIMED.values())
PATIENCE = 120.0  # seconds a worker waits for its database to come back before giving up


Write = tuple[str, tuple[str | None, ...]]  # one buffered statement and its parameters


def commit_writes(db: Connection, where: Location, writes: list[Write]) -> list[str]:
    """Commit `writes` in one transaction on `db`: the journal's own connection, or the send
    loop's writer thread's (`sending.committer`), so a slow commit never holds up the event loop.
    Returns the recipients whose claimed `sending` mark found no claim (a worker sharing a send
    lost them: their bodies must not go out); such marks run one by one for their row counts."""
    lost: list[str] = []
    try:
        with transaction(db):
            for sql, group in groupby(writes, key=itemgetter(0)):
                rows = [params for _, params in group]
                if sql in _CLAIMED_MARKS:
                    lost += [str(p[5]) for p in rows if db.execute(sql, p).rowcount == 0]
                else:
                    db.executemany(sql, rows)
    except DatabaseError as exc:
        raise DeliveryError(f"{shown(where)}: cannot write the journal: {exc}") from exc
    return lost


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed recipient, for `newsletter status` and its CSV export."""

    email: str
    attempts: int
    last_reply: str
    updated_at: str


class RunAudit(Protocol):
    """The audit log's side of a run (`newsletter.audit.sends.SendRecord`), called inside the
    run's own transactions; the store only knows this shape, not the log above it."""

    def run_started(self, db: Connection, kind: str) -> None: ...

    def run_finished(self, db: Connection, kind: str, outcome: str) -> None: ...


class Journal:
    """A connection to the journal of one route with a write buffer; `flush()` commits it in one
    transaction. Every read and write concerns `route` only (see the module's docstring)."""

    def __init__(self, path: Location, *, route: str = SMTP, claimant: str | None = None) -> None:
        self.path = path
        self.route = route
        # A worker sharing a send: its writes hold only while it holds the rows' claims. Every
        # journal waits out a database that restarts (`PATIENCE`) instead of stopping the send.
        self.claimant = claimant
        self.lost: set[str] = set()  # recipients whose claim was gone when they were to be marked sending
        # synchronous=FULL (connect's default): every grouped commit is fsynced. NORMAL survives a
        # killed process but a power cut could lose a `sending` commit after the body went out,
        # and the re-run would send that recipient a second copy (docs/benchmarks.md: the cost).
        # A worker joins a send already running, whose other processes wait out a restarting
        # server: so does its first connection.
        self.db = connect(path) if claimant is None else connect_waiting(path, PATIENCE)
        # One ordered buffer: a retried recipient can be `sending`, `pending`, `sending` again
        # within one commit, and the last write must win.
        self._writes: list[Write] = []
        # Who is sending, for the audit log: the run's entries commit with its `sends` row.
        self.audit: RunAudit | None = None
        self._kinds: dict[int, str] = {}

    def close(self) -> None:
        self.flush()
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- buffered writes of the send loop -------------------------------------------------
    def mark_sending(self, issue: str, email: str, message_id: str, edition: str = "") -> None:
        params = (message_id, edition, now(), issue, self.route, email.lower())
        if self.claimant is None:
            self._writes.append((_SENDING, params))
        else:
            self._writes.append((_SENDING_CLAIMED[self.db.backend], (*params, self.claimant)))

    def settle(self, issue: str, email: str, state: str, reply: str | None) -> None:
        """Record the outcome of one attempt: sent, failed, or pending again (to be retried)."""
        params = (state, reply, now(), issue, self.route, email.lower())
        if self.claimant is None:
            self._writes.append((_SETTLE, params))
        else:
            self._writes.append((_SETTLE_CLAIMED, (*params[:3], state, *params[3:], self.claimant)))

    def flush(self) -> None:
        """Commit every buffered write in one transaction (order kept: sending before outcome)."""
        writes = self.buffered()
        if not writes:
            return
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                lost = commit_writes(self.db, self.path, writes)
                break
            except DeliveryError as exc:
                cause = exc.__cause__
                if cause is None or not is_transient(cause) or time.monotonic() > deadline:
                    raise
                self.reconnect(deadline)
        self.committed(len(writes), lost)

    def buffered(self) -> list[Write]:
        """A copy of the writes not yet committed, in order (for a commit on another connection)."""
        return list(self._writes)

    def committed(self, count: int, lost: Iterable[str] = ()) -> None:
        """The first `count` buffered writes are durable. Kept until then: a failed commit (a full
        disk) loses no outcome, and writes buffered while a commit ran wait for the next one.
        `lost`: recipients whose claimed `sending` mark found no claim (`commit_writes`)."""
        del self._writes[:count]
        self.lost.update(lost)

    def revive(self) -> None:
        """A new connection if this one died with its server (a long send outlived a restart)."""
        try:
            self.db.execute("SELECT 1")
        except DatabaseError:
            self.reconnect(time.monotonic() + PATIENCE)

    def reconnect(self, deadline: float) -> None:
        """After a transient failure (the server restarting): a new connection, tried every half
        second until `deadline`; DeliveryError after it."""
        while True:
            with suppress(Exception):
                self.db.close()
            time.sleep(0.5)
            try:
                self.db = connect(self.path)
                return
            except StorageError as exc:
                if time.monotonic() > deadline:
                    raise DeliveryError(str(exc)) from exc

    # --- planning a send --------------------------------------------------------------------
    def prepare(self, issue: str, emails: Iterable[str], skipped: Iterable[tuple[str, str]]) -> None:
        """Record every targeted recipient as pending (if new) and every skipped one with its reason."""
        stamp = now()
        try:
            with transaction(self.db):
                route = self.route
                self.db.executemany(_PENDING, ((issue, route, e.lower(), stamp, stamp) for e in emails))
                self.db.executemany(_SKIP, ((issue, route, e.lower(), reason, stamp, stamp) for e, reason in skipped))
        except DatabaseError as exc:
            raise DeliveryError(f"{shown(self.path)}: cannot write the journal: {exc}") from exc

    def settled_states(self, issue: str) -> dict[str, str]:
        """Address -> state for every recipient of `issue` that is not pending or skipped."""
        rows = self.db.execute(
            "SELECT email, state FROM deliveries "
            "WHERE issue = ? AND route = ? AND state IN ('sending', 'sent', 'failed')",
            (issue, self.route),
        )
        return dict(rows)

    def reached(self, issue: str) -> set[str]:
        """The routes (this one or others) by which `issue` reached, or may have reached, somebody."""
        rows = self.db.execute(
            "SELECT DISTINCT route FROM deliveries WHERE issue = ? AND state IN ('sending', 'sent')", (issue,)
        )
        return {route for (route,) in rows}

    # --- runs -------------------------------------------------------------------------------
    def start_run(self, issue: str, kind: str, destination: str, recipients: str | None = None) -> int:
        with transaction(self.db):
            run = self.db.execute(
                "INSERT INTO sends (issue, kind, destination, recipients, started_at, route) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (issue, kind, destination, recipients, now(), self.route),
            ).scalar_one()
            if self.audit is not None:
                self.audit.run_started(self.db, kind)
            self._kinds[int(run)] = kind
        return int(run)

    def finish_run(self, run: int, outcome: str) -> None:
        self.revive()  # idle while the send loop's writer thread committed: its server may have restarted
        self.flush()
        with transaction(self.db):
            self.db.execute("UPDATE sends SET finished_at = ?, outcome = ? WHERE id = ?", (now(), outcome, run))
            if self.audit is not None:
                self.audit.run_finished(self.db, self._kinds.get(run, "send"), outcome)

    # --- reading ----------------------------------------------------------------------------
    def counts(self, issue: str) -> Counter[str]:
        rows = self.db.execute(
            "SELECT state, count(*) FROM deliveries WHERE issue = ? AND route = ? GROUP BY state", (issue, self.route)
        )
        return Counter(dict(rows))

    def sent_editions(self, issue: str) -> Counter[str]:
        """Recipients sent each ward edition of the issue (key "" is the edition for everyone)."""
        rows = self.db.execute(
            "SELECT edition, count(*) FROM deliveries "
            "WHERE issue = ? AND route = ? AND state = 'sent' GROUP BY edition",
            (issue, self.route),
        )
        return Counter(dict(rows))

    def skipped_reasons(self, issue: str) -> Counter[str]:
        rows = self.db.execute(
            "SELECT coalesce(reason, ''), count(*) FROM deliveries "
            "WHERE issue = ? AND route = ? AND state = 'skipped' GROUP BY 1",
            (issue, self.route),
        )
        return Counter(dict(rows))

    def failures(self, issue: str) -> Iterator[Failure]:
        rows = self.db.execute(
            "SELECT email, attempts, coalesce(last_reply, ''), updated_at FROM deliveries "
            "WHERE issue = ? AND route = ? AND state = 'failed' ORDER BY email",
            (issue, self.route),
        )
        for email, attempts, reply, updated in rows:
            yield Failure(email, attempts, reply, updated)

    def unknown(self, issue: str) -> list[str]:
        rows = self.db.execute(
            "SELECT email FROM deliveries WHERE issue = ? AND route = ? AND state = 'sending' ORDER BY email",
            (issue, self.route),
        )
        return [email for (email,) in rows]

    def runs(self, issue: str) -> list[tuple[str, str, str, str | None, str | None]]:
        rows = self.db.execute(
            "SELECT kind, destination, started_at, finished_at, outcome FROM sends WHERE issue = ? AND route = ? "
            "ORDER BY id",
            (issue, self.route),
        )
        return list(rows)

    def issues(self) -> list[str]:
        """Every issue the journal records anything about (for a "did you mean" on a typo)."""
        rows = self.db.execute("SELECT issue FROM deliveries UNION SELECT issue FROM sends ORDER BY 1")
        return [issue for (issue,) in rows]


def sent_issues(db: Connection) -> list[tuple[str, str]]:
    """(issue slug, first time it was sent) for every issue a real send delivered to somebody;
    test sends are never journalled as deliveries, so they never count."""
    rows = db.execute("SELECT issue, min(updated_at) FROM deliveries WHERE state = 'sent' GROUP BY issue ORDER BY 2, 1")
    return [(issue, first) for issue, first in rows]
