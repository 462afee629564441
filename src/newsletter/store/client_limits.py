"""At most N requests per client in any window, counted in the database so a restart forgets nothing.

One row per counted request (`client_limits`: id, key, at). The client is stored only as a
keyed hash (HMAC-SHA256 under `client_limit_key` in `meta`, made by the migration), never as
the address itself. The table stays bounded two ways, both in the same transaction as the
count: rows older than the window are deleted, and when a flood from many clients pushes the
row count past `max_rows` the oldest rows go first (ids only grow, so `max(id) - min(id)`
bounds the count without scanning the table).
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
from dataclasses import dataclass

from newsletter.store.database import transaction

MAX_ROWS = 50_000  # about 4 MB with both indexes; a legitimate hour is a few hundred


@dataclass(frozen=True)
class Window:
    """`limit` requests per key in any `period` seconds, the table capped at `max_rows`."""

    limit: int
    period: float
    max_rows: int = MAX_ROWS


def client_key(db: sqlite3.Connection, scope: str, client: str) -> str:
    """The keyed hash a client is counted by (128 bits, hex): the same for the same client and
    scope across restarts, and no use without this database's own key."""
    row = db.execute("SELECT value FROM meta WHERE key = 'client_limit_key'").fetchone()
    message = scope.encode() + b"\0" + client.encode("utf-8", "replace")
    return hmac.new(bytes.fromhex(row[0]), message, hashlib.sha256).hexdigest()[:32]


def hit(db: sqlite3.Connection, window: Window, scope: str, client: str, now: float | None = None) -> int:
    """Count one request from `client`: 0 when it is within the limit (and counted), else the
    whole seconds until it may try again (at least 1; a refused request is not counted)."""
    at = time.time() if now is None else now
    with transaction(db):
        key = client_key(db, scope, client)
        # Too old, or from a clock that has since been set back by more than a window.
        db.execute("DELETE FROM client_limits WHERE at <= ? OR at > ?", (at - window.period, at + window.period))
        count, oldest = db.execute("SELECT count(*), min(at) FROM client_limits WHERE key = ? AND at > ?",
                                   (key, at - window.period)).fetchone()
        if count >= window.limit:
            wait = oldest + window.period - at
            return max(1, min(int(window.period) + 1, int(wait) + 1))
        db.execute("INSERT INTO client_limits (key, at) VALUES (?, ?)", (key, at))
        low, high = db.execute("SELECT min(id), max(id) FROM client_limits").fetchone()
        if high - low >= window.max_rows:
            db.execute("DELETE FROM client_limits WHERE id <= ?", (high - window.max_rows,))
    return 0


def rows(db: sqlite3.Connection) -> int:
    """How many requests are being remembered."""
    return int(db.execute("SELECT count(*) FROM client_limits").fetchone()[0])
