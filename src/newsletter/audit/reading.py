"""`newsletter log`: the log of a project's database read, checked or exported, without ever
creating the database (no log yet is said, not made)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from newsletter.audit import export
from newsletter.audit.log import Broken, Entry, entries, rows, verify
from newsletter.errors import InputError
from newsletter.store.connection import Location
from newsletter.store.database import connect, exists

__all__ = ["check", "read", "save", "since_date"]


def since_date(raw: str) -> dt.datetime:
    """--since: a date (YYYY-MM-DD, from its midnight) or a date and time, in UTC."""
    text = raw.strip()
    try:
        moment = dt.datetime.fromisoformat(text) if "T" in text or " " in text else None
        if moment is None:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    except ValueError:
        raise InputError(f"--since {raw!r}: not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def read(location: Location, *, since: dt.datetime | None = None, issue: str | None = None) -> list[Entry] | None:
    """The entries (oldest first), or None when the project has no database yet."""
    if not exists(location):
        return None
    with connect(location) as db:
        return entries(db, since=since, issue=issue)


def check(location: Location) -> tuple[int, Broken | None] | None:
    """`verify` on the project's database; None when it has none yet."""
    if not exists(location):
        return None
    with connect(location) as db:
        return verify(db)


def save(location: Location, path: Path, *, since: dt.datetime | None = None, issue: str | None = None) -> int | None:
    """Export the entries to `path` (CSV or JSON by its extension): how many; None without a database."""
    export.check_target(path)  # refused before the database is opened
    if not exists(location):
        return None
    with connect(location) as db:
        found = rows(db, since=since, issue=issue)
    return export.write(path, found)
