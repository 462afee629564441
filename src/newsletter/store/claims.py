"""Claims: how several workers, on any number of hosts, share one send and reach each recipient once.

A send's plan is written once: its recipients' rows in `deliveries` are `pending` and carry the
send (`job`, the `sends` row of the run that planned it). A worker then claims a batch: it writes
its name (`claimed_by`) and a lease end (`claim_until`) on rows nobody holds, or whose holder's
lease has ended. On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED` in a transaction that
takes no global lock (`transaction(db, shared=True)`), so workers claim side by side; SQLite has one
writer at a time anyway (`BEGIN IMMEDIATE`). Leases are judged by the database's clock (`CLOCK`),
never a host's: the hosts' clocks may disagree, the database is one.

A worker marks a recipient `sending` only while it still holds the claim (`journal.Journal`, with
`claimant`); a row it lost (its lease ended while it was stalled, and another worker took the row)
is not sent. A worker that dies leaves its `pending` claims to run out (then anyone takes them) and
its `sending` rows "unknown", as a single send does. A recipient who unsubscribed or was suppressed
after planning is skipped when claimed, in the same transaction.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.store.connection import SQLITE, Connection
from newsletter.store.transactions import now, transaction

# Seconds since 1970 by the database's clock (SQLite: julianday('now') has milliseconds; no
# unixepoch('subsec') before 3.42). clock_timestamp(), not now(): now() is the transaction's start.
CLOCK = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch from clock_timestamp())::float8",
}
UNSUBSCRIBED_SINCE = "unsubscribed or suppressed after the send was planned"

# A claim walks the send's pending rows in index order (`deliveries_job`) and stops at the batch:
# no ORDER BY, which would sort every pending row of the send on every claim (at 20,000 that was
# most of a claim's time, and claims run between sends on a worker's event loop).
_CLAIM = {
    "sqlite": """UPDATE deliveries SET claimed_by = ?, claim_until = {clock} + ?
WHERE rowid IN (SELECT rowid FROM deliveries WHERE job = ? AND state = 'pending'
  AND (claimed_by IS NULL OR claim_until < {clock}) LIMIT ?)
RETURNING issue, route, email""",
    "postgresql": """WITH picked AS (
  SELECT issue, route, email FROM deliveries WHERE job = ? AND state = 'pending'
    AND (claimed_by IS NULL OR claim_until < {clock}) LIMIT ? FOR UPDATE SKIP LOCKED)
UPDATE deliveries d SET claimed_by = ?, claim_until = {clock} + ? FROM picked
WHERE d.issue = picked.issue AND d.route = picked.route AND d.email = picked.email
RETURNING d.issue, d.route, d.email""",
}
# The batch's people who may still get the issue (subscribed, not suppressed), looked up by
# address; the rest of the batch left after planning and is skipped by primary key. Both touch
# the batch's rows only, never every row the worker or the send holds.
_PEOPLE = """SELECT s.email, s.first_name, s.last_name, s.ward, s.tags, s.consented_at FROM subscribers s
WHERE s.email IN ({marks}) AND s.status = 'subscribed'
  AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email) ORDER BY s.email"""
_SKIP_GONE = """UPDATE deliveries SET state = 'skipped', reason = ?, claimed_by = NULL, updated_at = ?
WHERE issue = ? AND route = ? AND email IN ({marks}) AND claimed_by = ? AND state = 'pending'
RETURNING email"""


def clock(db: Connection) -> str:
    """The SQL expression of the database's clock, in seconds (see `CLOCK`)."""
    return CLOCK[db.backend]


def database_time(db: Connection) -> float:
    return float(db.execute(f"SELECT {clock(db)}").scalar_one())


def worker_name() -> str:
    """Who holds a claim: readable (host and process) and unique (a random tail)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


Person = tuple[str, str, str, str, str, str | None]  # email, first, last, ward, tags, consented_at


@dataclass
class Batch:
    """What one claim got: the people to send to, and those skipped because they left meanwhile."""

    people: list[Person]
    skipped: list[str]


def claim(db: Connection, job: int, worker: str, size: int, lease: float) -> Batch:
    """Claim up to `size` unheld pending rows of `job` for `lease` seconds (database clock)."""
    sql = _CLAIM[db.backend].format(clock=clock(db))
    with transaction(db, shared=True):
        if db.backend == SQLITE:
            rows = db.execute(sql, (worker, lease, job, size)).fetchall()
        else:
            rows = db.execute(sql, (job, size, worker, lease)).fetchall()
        if not rows:
            return Batch([], [])
        issue, route = rows[0][0], rows[0][1]  # one job: one issue, one route
        emails = [str(e) for _, _, e in rows]
        marks = ", ".join("?" * len(emails))
        people = [tuple(p) for p in db.execute(_PEOPLE.format(marks=marks), emails).fetchall()]
        kept = {p[0] for p in people}
        skipped: list[str] = []
        if gone := [e for e in emails if e not in kept]:
            skipped = [
                str(e)
                for (e,) in db.execute(
                    _SKIP_GONE.format(marks=", ".join("?" * len(gone))),
                    (UNSUBSCRIBED_SINCE, now(), issue, route, *gone, worker),
                ).fetchall()
            ]
    return Batch(people, skipped)


def renew(db: Connection, worker: str, lease: float) -> int:
    """Extend the lease of every row `worker` still holds and has not settled; rows renewed."""
    with transaction(db, shared=True):
        return db.execute(
            f"UPDATE deliveries SET claim_until = {clock(db)} + ? WHERE claimed_by = ? AND state = 'pending'",
            (lease, worker),
        ).rowcount


def release(db: Connection, worker: str) -> int:
    """Give back every pending row `worker` holds (it stops without sending them)."""
    with transaction(db, shared=True):
        return db.execute(
            "UPDATE deliveries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ? AND state = 'pending'",
            (worker,),
        ).rowcount


@dataclass(frozen=True)
class Left:
    """What is left of a send: rows nobody may take yet (held, or in flight with a live claim)."""

    pending: int  # not yet sent (held by a worker, or free)
    in_flight: int  # `sending` with a live claim: a worker is sending them now

    @property
    def done(self) -> bool:
        return self.pending == 0 and self.in_flight == 0


def left(db: Connection, job: int) -> Left:
    row = db.execute(
        f"SELECT coalesce(sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN state = 'sending' AND claim_until > {clock(db)} THEN 1 ELSE 0 END), 0) "
        "FROM deliveries WHERE job = ?",
        (job,),
    ).fetchone()
    return Left(int(row[0]), int(row[1]))


def assign(db: Connection, job: int, issue: str, route: str, emails: Iterable[str]) -> None:
    """Write the plan: the planned recipients' rows (already prepared) belong to `job`, free to
    claim. The plan chose them, so one left `sending` or `failed` is pending again (the send was
    asked to resend or retry it); a `sent` one never is."""
    with transaction(db):
        db.executemany(
            "UPDATE deliveries SET job = ?, state = 'pending', claimed_by = NULL, claim_until = NULL "
            "WHERE issue = ? AND route = ? AND email = ? AND state IN ('pending', 'sending', 'failed')",
            ((job, issue, route, e.lower()) for e in emails),
        )


def unknown(db: Connection, job: int) -> list[str]:
    """Rows of `job` left `sending` by a worker that is gone (its lease ended) or that lost the
    relay's reply: the relay may have the message; never resent without `--resend-unknown`."""
    rows = db.execute(
        "SELECT email FROM deliveries WHERE job = ? AND state = 'sending' "
        f"AND (claim_until IS NULL OR claim_until <= {clock(db)}) ORDER BY email",
        (job,),
    )
    return [email for (email,) in rows]


def counts(db: Connection, job: int) -> dict[str, int]:
    """State -> rows of `job`."""
    rows = db.execute("SELECT state, count(*) FROM deliveries WHERE job = ? GROUP BY state", (job,))
    return {state: int(n) for state, n in rows}


# --- the relay's pacing, shared by every worker -------------------------------------------------


def _pacing_row(db: Connection, relay: str) -> tuple[float, float, float, int, float]:
    db.execute("INSERT INTO relay_pacing (relay) VALUES (?) ON CONFLICT (relay) DO NOTHING", (relay,))
    lock = "" if db.backend == SQLITE else " FOR UPDATE"
    row = db.execute(
        f"SELECT next_slot, resume_at, hour_start, hour_count, {clock(db)} FROM relay_pacing WHERE relay = ?{lock}",
        (relay,),
    ).fetchone()
    return float(row[0]), float(row[1]), float(row[2]), int(row[3]), float(row[4])


def reserve(db: Connection, relay: str, wanted: int, interval: float, hourly: int | None) -> tuple[float, int]:
    """Reserve up to `wanted` consecutive send slots of `relay`, `interval` seconds apart, within
    its hourly budget (a fixed hour from its first slot): (seconds until the first, slots granted).
    None granted: the budget is spent; the first number says how long until the next hour."""
    with transaction(db, shared=True):
        next_slot, resume_at, hour_start, used, t = _pacing_row(db, relay)
        start = max(t, next_slot, resume_at)
        if hourly is not None:
            if start - hour_start >= 3600.0:
                hour_start, used = start, 0
            wanted = min(wanted, hourly - used)
            if wanted <= 0:
                return hour_start + 3600.0 - t, 0
        db.execute(
            "UPDATE relay_pacing SET next_slot = ?, hour_start = ?, hour_count = ? WHERE relay = ?",
            (start + wanted * interval, hour_start, used + wanted, relay),
        )
    return start - t, wanted


def throttle(db: Connection, relay: str, seconds: float) -> None:
    """Every worker of `relay` waits `seconds` from now (the relay asked one of them to slow down)."""
    with transaction(db, shared=True):
        _pacing_row(db, relay)
        db.execute(
            f"UPDATE relay_pacing SET resume_at = CASE WHEN resume_at > {clock(db)} + ? THEN resume_at "
            f"ELSE {clock(db)} + ? END WHERE relay = ?",
            (seconds, seconds, relay),
        )


def paused(db: Connection, relay: str) -> float:
    """Seconds every worker of `relay` must still wait (0: none)."""
    row = db.execute(f"SELECT resume_at - {clock(db)} FROM relay_pacing WHERE relay = ?", (relay,)).fetchone()
    return max(0.0, float(row[0])) if row is not None else 0.0
