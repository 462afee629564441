"""At most N requests per client in any window, counted in the database so a restart forgets nothing.

One row per counted request (`client_limits`: id, key, at). The client is stored only as a
keyed hash (HMAC-SHA256 under `client_limit_key` in `meta`, made by the migration), never as
the address itself. The table stays bounded two ways, both in the same transaction as the
count: rows older than the window are deleted (and when `serve` starts), and when a flood from many clients pushes the
row count past `max_rows` the oldest rows go first (ids only grow, so `max(id) - min(id)`
bounds the count without scanning the table).

A claim (`web_claims`: key, holder, expires) says one request is emailing an address right now,
so that two requests at once, to one `serve` process or to several sharing the database, send
one email. It is taken under the store's write lock, released by its holder, and lapses after
its lease if the holder died (judged by the claimant's clock, like the window: hosts sharing a
database keep their clocks in step, and a few seconds' skew only shortens or lengthens a lease).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from newsletter.store.connection import Connection
from newsletter.store.database import transaction

MAX_ROWS = 50_000  # 4.5 MB with both indexes (measured); a busy hour of signups is a few hundred


@dataclass(frozen=True)
class Window:
    """`limit` requests per key in any `period` seconds, the table capped at `max_rows`."""

    limit: int
    period: float
    max_rows: int = MAX_ROWS


def client_key(db: Connection, scope: str, client: str) -> bytes:
    """The keyed hash a client is counted by (128 bits): the same for the same client and scope
    across restarts, and no use without this database's own key."""
    row = db.execute("SELECT value FROM meta WHERE key = 'client_limit_key'").fetchone()
    message = scope.encode() + b"\0" + client.encode("utf-8", "replace")
    return hmac.new(bytes.fromhex(row[0]), message, hashlib.sha256).digest()[:16]


def hit(db: Connection, window: Window, scope: str, client: str, now: float | None = None) -> int:
    """Count one request from `client`: 0 when it is within the limit (and counted), else the
    whole seconds until it may try again (at least 1; a refused request is not counted)."""
    at = time.time() if now is None else now
    with transaction(db):
        key = client_key(db, scope, client)
        _forget(db, window, at)
        count, oldest = db.execute(
            "SELECT count(*), min(at) FROM client_limits WHERE key = ? AND at > ?", (key, at - window.period)
        ).fetchone()
        if count >= window.limit:
            wait = oldest + window.period - at
            return max(1, min(int(window.period) + 1, int(wait) + 1))
        db.execute("INSERT INTO client_limits (key, at) VALUES (?, ?)", (key, at))
        # Two subqueries: SQLite reads min() or max() alone off the end of the index, both at once by a scan.
        low, high = db.execute(
            "SELECT (SELECT min(id) FROM client_limits), (SELECT max(id) FROM client_limits)"
        ).fetchone()
        if high - low >= window.max_rows:
            db.execute("DELETE FROM client_limits WHERE id <= ?", (high - window.max_rows,))
    return 0


def recent(db: Connection, scope: str, client: str, period: float, now: float | None = None) -> int:
    """How many requests of `client` the last `period` seconds hold (counting none)."""
    at = time.time() if now is None else now
    key = client_key(db, scope, client)
    found = db.execute("SELECT count(*) FROM client_limits WHERE key = ? AND at > ?", (key, at - period)).fetchone()
    return int(found[0])


def _forget(db: Connection, window: Window, at: float) -> None:
    """Delete rows too old to count, or from a clock since set back by more than a window."""
    db.execute("DELETE FROM client_limits WHERE at <= ?", (at - window.period,))
    db.execute("DELETE FROM client_limits WHERE at > ?", (at + window.period,))


def forget_old(db: Connection, window: Window, now: float | None = None) -> None:
    """What every `hit` does first, on its own (for a server starting after a pause)."""
    with transaction(db):
        _forget(db, window, time.time() if now is None else now)


def rows(db: Connection) -> int:
    """How many requests are being remembered."""
    return int(db.execute("SELECT count(*) FROM client_limits").fetchone()[0])


def claim(db: Connection, scope: str, subject: str, lease: float, now: float | None = None) -> str | None:
    """Claim `subject` (an address) for `lease` seconds: the holder's token to release it with,
    or None when another request holds a live claim."""
    at = time.time() if now is None else now
    holder = secrets.token_hex(8)
    with transaction(db):
        key = client_key(db, scope, subject)
        db.execute("DELETE FROM web_claims WHERE expires <= ?", (at,))
        taken = db.execute(
            "INSERT INTO web_claims (key, holder, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, holder, at + lease),
        ).rowcount
    return holder if taken == 1 else None


def release(db: Connection, scope: str, subject: str, holder: str) -> None:
    """Give up a claim (only the holder's own: a lapsed one may have been taken by another)."""
    with transaction(db):
        key = client_key(db, scope, subject)
        db.execute("DELETE FROM web_claims WHERE key = ? AND holder = ?", (key, holder))
