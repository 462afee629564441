"""One send of an issue at a time: a row in `send_locks` for as long as the run lasts.

A run takes the lock for its issue inside one `BEGIN IMMEDIATE` transaction, so two sends
started together cannot both win; the loser refuses with one line naming the holder (host,
process id, start time). The holder renews a lease from a thread of its own every few
seconds, whatever the main thread is doing (loading a list, waiting at the confirmation
prompt). A lease is judged by the database's clock, never a host's: two hosts' clocks may
disagree, the database is one. A lock whose holder died is taken over when its lease has run
out (a killed or frozen process stops renewing), or at once when the holder is provably on
this very machine and in this process namespace (`node`: the boot id and the pid namespace, as
a host name and a pid mean nothing across hosts and containers) and its process is gone. A
holder that finds its lock taken over (it was frozen past its lease) notices at its next
renewal and stops taking recipients.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.store.connection import SQLITE, Connection, DatabaseError, Location, is_transient, shown
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
    expired: bool = False  # by the database's clock
    token: str = ""

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}, started {self.started_at}"


# The database's clock `seconds` from now, as ISO 8601 text in UTC ("...T12:00:00.000Z"), so a lease
# written by one host is compared by the same clock as any other host's.
_LATER = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ? || ' seconds')",
    "postgresql": "to_char((clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => ?), "
    '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')',
}


def _later(db: Connection) -> str:
    return _LATER[db.backend]


@functools.cache
def node() -> str:
    """This machine and process namespace: the kernel's boot id and the pid namespace's inode
    (empty where they cannot be read: then no holder is ever provably local)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        space = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return ""
    return f"{boot}/{space}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def is_stale(holder: Holder) -> bool:
    """True when the holder is gone: its lease ran out, or it is provably local and dead."""
    if holder.expired:
        return True
    here = node()
    return bool(here) and holder.token.startswith(here + " ") and not _alive(holder.pid)


def holder(db: Connection, issue: str) -> Holder | None:
    row = db.execute(
        f"SELECT issue, host, pid, started_at, lease_until, lease_until < {_later(db)}, token "
        "FROM send_locks WHERE issue = ?",
        (0, issue),
    ).fetchone()
    return Holder(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6] or "") if row else None


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
        db: Connection | None = None
        try:
            while not self._stop.wait(every):
                try:
                    db = db or connect(self.path)
                    self.renew(db)
                except (DatabaseError, StorageError):
                    # The server restarting: a new connection next round (the lease has time to spare).
                    with contextlib.suppress(Exception):
                        if db is not None:
                            db.close()
                    db = None
        finally:
            if db is not None:
                db.close()

    def renew(self, db: Connection) -> None:
        try:
            with transaction(db):
                cursor = db.execute(
                    f"UPDATE send_locks SET lease_until = {_later(db)} WHERE issue = ? AND token = ?",
                    (self.lease, self.issue, self.token),
                )
        except DatabaseError as exc:
            if db.backend != SQLITE and is_transient(exc):
                raise  # a connection to a server that went away: the caller opens a new one
            return  # a busy database: the lease has time to spare, try again next round
        if cursor.rowcount == 0 and self.lost is None:
            taker = holder(db, self.issue)
            self.lost = f"the send lock of {self.issue} was taken over" + (f" by {taker.describe()}" if taker else "")

    def attach(self, job: int, content: str) -> None:
        """Open the send to workers: the lock names its job (the run whose rows they claim) and
        the content's hash (a worker whose copy of the issue differs refuses to join)."""
        token = f"{self.token} job={job} content={content}"
        with connect(self.path) as db, transaction(db):
            db.execute("UPDATE send_locks SET token = ? WHERE issue = ? AND token = ?", (token, self.issue, self.token))
        self.token = token

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
    token = f"{node()} {secrets.token_hex(16)}"  # a holder is provably local only by its node
    host = socket.gethostname()
    db = connect(path)
    try:
        with transaction(db):
            current = holder(db, issue)
            if current is not None and not is_stale(current):
                raise SendLocked(
                    f"{issue} is already being sent by {current.describe()}",
                    hint="wait for it to finish; a lock left by a process that died is taken over by itself",
                )
            db.execute(
                "INSERT INTO send_locks (issue, host, pid, started_at, lease_until, token) "
                f"VALUES (?, ?, ?, ?, {_later(db)}, ?) "
                "ON CONFLICT (issue) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
                "started_at = excluded.started_at, lease_until = excluded.lease_until, token = excluded.token",
                (issue, host, os.getpid(), now("seconds"), lease, token),
            )
    except DatabaseError as exc:
        raise StorageError(f"{shown(path)}: cannot take the send lock: {exc}") from exc
    finally:
        db.close()
    return SendLock(path, issue, token, lease, renew_every)


@dataclass(frozen=True)
class Job:
    """A send that workers may join: its run (`sends.id`, the `job` of its rows), issue, route."""

    job: int
    issue: str
    route: str
    content: str  # the hash of the content being sent (`snapshots`)
    holder: Holder


def running(db: Connection, issue: str | None = None, job: int | None = None) -> list[Job]:
    """The sends open to workers now: their coordinator holds the issue's lock (by the database's
    clock) and has attached the job to it (`SendLock.attach`)."""
    found = []
    for (name,) in db.execute(f"SELECT issue FROM send_locks WHERE lease_until > {_later(db)} ORDER BY issue", (0,)):
        current = holder(db, name)
        if current is None or " job=" not in current.token or (issue is not None and name != issue):
            continue
        tail = dict(part.split("=", 1) for part in current.token.split(" ") if "=" in part)
        number = int(tail["job"])
        if job is not None and number != job:
            continue
        row = db.execute("SELECT route FROM sends WHERE id = ? AND finished_at IS NULL", (number,)).fetchone()
        if row is not None:
            found.append(Job(number, name, str(row[0]), tail.get("content", ""), current))
    return found
