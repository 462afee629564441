"""Unsubscribes that arrive together commit together: one transaction, one fsync, for a burst.

After a large send, mailbox providers post RFC 8058 one-click unsubscribes in bursts. Each one
committed alone makes every server thread queue for the database's single write lock (on
SQLite its busy handler polls the lock, sleeping in between) and pay a durable commit of its
own: profiled, the threads spent most of a burst there (docs/benchmarks.md). So here the first
request to arrive while no commit is under way becomes the committer: it takes every
unsubscribe waiting at that moment (its own included), writes them in one transaction on its
own connection (`subscribers.unsubscribe_all`), and commits. Requests arriving meanwhile wait
for the next group, whose committer is one of them. There is no timer: a request alone commits
at once, as before.

No request answers before the commit that holds its own unsubscribe: each waits for its group's
outcome. A group that fails records nothing (it is one transaction), and each of its requests
raises that failure, so the app answers each as it would have answered it alone: 503 with
Retry-After for a database that is busy or cannot be reached. A failure that is not the
database being unavailable (a constraint, a fault of ours) may belong to one request only: the
group is then written again one request at a time, each getting its own outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.store import Connection, DatabaseError, StorageError, subscribers
from newsletter.store.connection import is_transient
from newsletter.store.consent import Evidence


def unavailable(exc: BaseException) -> bool:
    """A database that is busy, locked, restarting or cannot be opened: it may work in a minute,
    so the answer is 503 with Retry-After. Anything else (a constraint, a corrupt file) is a
    fault to fix, not to retry."""
    return isinstance(exc, StorageError) or is_transient(exc)


@dataclass(eq=False, slots=True)
class _Waiting:
    """One request's unsubscribe, and its outcome once `done`."""

    address: str
    evidence: Evidence
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    """The unsubscribes of all server threads, committed in groups (see the module's docstring).
    `db` gives the calling thread's connection: the committer writes on its own."""

    def __init__(self, db: Callable[[], Connection]) -> None:
        self._db = db
        self._changed = threading.Condition()
        self._queued: list[_Waiting] = []
        self._committing: list[_Waiting] = []
        self.commits = 0  # groups committed or failed, and the largest group: for the tests
        self.largest = 0

    def pending(self) -> int:
        """Requests not yet answered: queued, or in the group being committed."""
        with self._changed:
            return len(self._queued) + len(self._committing)

    def unsubscribe(self, address: str, evidence: Evidence) -> None:
        """Returns once a commit holds this unsubscribe; raises what its group's commit raised."""
        mine = _Waiting(address, evidence)
        group: list[_Waiting] = []
        with self._changed:
            self._queued.append(mine)
            while self._committing and not mine.done:
                self._changed.wait()
            if not mine.done:  # no commit under way: this thread commits everything queued
                group, self._queued = self._queued, []
                self._committing = group
        if group:
            try:
                self._write(group)
            finally:
                with self._changed:
                    for waiting in group:
                        waiting.done = True
                    self._committing = []
                    self.commits += 1
                    self.largest = max(self.largest, len(group))
                    self._changed.notify_all()
        if mine.error is not None:
            raise mine.error

    def _write(self, group: list[_Waiting]) -> None:
        """One transaction for the group; on a failure that is not "try again", one each."""
        try:
            subscribers.unsubscribe_all(self._db(), [(w.address, w.evidence) for w in group])
        except (DatabaseError, StorageError) as exc:
            if len(group) > 1 and not unavailable(exc):
                for waiting in group:
                    try:
                        subscribers.unsubscribe_all(self._db(), [(waiting.address, waiting.evidence)])
                    except Exception as alone:
                        waiting.error = alone
                return
            for waiting in group:
                waiting.error = exc
        except BaseException as exc:  # a fault of ours: every request of the group hears of it
            for waiting in group:
                waiting.error = exc
