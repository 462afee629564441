"""One send of an issue at a time: a row in `send_locks` for as long as the run lasts.

A run takes the lock for its issue inside one `BEGIN IMMEDIATE` transaction, so two sends
started together cannot both win; the loser refuses with one line naming the holder (host,
process id, start time). The holder renews a lease from a thread of its own every few
seconds, whatever the main thread is doing (loading a list, waiting at the confirmation
prompt). A lock whose holder died is taken over: at once when the holder's process no
longer exists on this host, otherwise when its lease has run out (a killed or frozen
process on another host stops renewing). A holder that finds its lock taken over (it was
frozen past its lease) notices at its next renewal and stops taking recipients.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import threading
from dataclasses import dataclass

from newsletter.errors import NewsletterError
from newsletter.store.connection import Connection, DatabaseError, Location, shown
from newsletter.store.database import StorageError, connect, now, transaction

LEASE = 60.0  # seconds a lock stays valid without renewal
RENEW_EVERY = 10.0


class SendLocked(NewsletterError):
    """Another run is sending this issue (a failure while working: exit 1)."""


@dataclass(frozen=True)
class Holder:
    issue: str
    host: str
    pid: int
    started_at: str
    lease_until: str

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}, started {self.started_at}"


def _later(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def is_stale(holder: Holder, *, host: str | None = None) -> bool:
    """True when the holder is gone: its process is dead on this host, or its lease ran out."""
    if holder.lease_until < now():
        return True
    return holder.host == (host or socket.gethostname()) and not _alive(holder.pid)


def holder(db: Connection, issue: str) -> Holder | None:
    row = db.execute(
        "SELECT issue, host, pid, started_at, lease_until FROM send_locks WHERE issue = ?", (issue,)
    ).fetchone()
    return Holder(*row) if row else None


class SendLock:
    """A lock held by this process; `release()` (or the context manager) gives it back."""

    def __init__(self, path: Location, issue: str, token: str, lease: float, renew_every: float) -> None:
        self.path = path
        self.issue = issue
        self.token = token
        self.lease = lease
        self.lost: str | None = None  # why the lock is no longer ours, once it is not
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_loop, args=(renew_every,), daemon=True, name=f"send-lock-{issue}"
        )
        self._thread.start()

    @property
    def held(self) -> bool:
        return self.lost is None

    def _renew_loop(self, every: float) -> None:
        db = connect(self.path)
        try:
            while not self._stop.wait(every):
                self.renew(db)
        finally:
            db.close()

    def renew(self, db: Connection) -> None:
        try:
            with transaction(db):
                cursor = db.execute(
                    "UPDATE send_locks SET lease_until = ? WHERE issue = ? AND token = ?",
                    (_later(self.lease), self.issue, self.token),
                )
        except DatabaseError:
            return  # a busy database: the lease has time to spare, try again next round
        if cursor.rowcount == 0 and self.lost is None:
            taker = holder(db, self.issue)
            self.lost = f"the send lock of {self.issue} was taken over" + (f" by {taker.describe()}" if taker else "")

    def release(self) -> None:
        self._stop.set()
        self._thread.join(5)
        try:
            db = connect(self.path)
            try:
                with transaction(db):
                    db.execute("DELETE FROM send_locks WHERE issue = ? AND token = ?", (self.issue, self.token))
            finally:
                db.close()
        except (DatabaseError, StorageError):
            pass  # the lease runs out by itself

    def __enter__(self) -> SendLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(path: Location, issue: str, *, lease: float = LEASE, renew_every: float = RENEW_EVERY) -> SendLock:
    """Take the send lock of `issue` in the database at `path`, or raise SendLocked."""
    token = secrets.token_hex(16)
    host = socket.gethostname()
    db = connect(path)
    try:
        with transaction(db):
            current = holder(db, issue)
            if current is not None and not is_stale(current, host=host):
                raise SendLocked(
                    f"{issue} is already being sent by {current.describe()}",
                    hint="wait for it to finish; a lock left by a process that died is taken over by itself",
                )
            db.execute(
                "INSERT INTO send_locks (issue, host, pid, started_at, lease_until, token) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (issue) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
                "started_at = excluded.started_at, lease_until = excluded.lease_until, token = excluded.token",
                (issue, host, os.getpid(), now("seconds"), _later(lease), token),
            )
    except DatabaseError as exc:
        raise StorageError(f"{shown(path)}: cannot take the send lock: {exc}") from exc
    finally:
        db.close()
    return SendLock(path, issue, token, lease, renew_every)
