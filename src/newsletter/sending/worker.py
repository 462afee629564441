"""Workers: several processes, on any number of hosts, share one send.

`newsletter send ISSUE --workers N` plans the send once (`sending.start`), opens it to workers
(`share`) and starts N local `newsletter worker` processes; `newsletter worker` on any host that
reaches the database joins a send that is open (`run_worker`) and leaves when nothing is left.
Each worker composes the issue from its own project folder (refusing to join when its copy's
content differs from what is being sent), sends through its own relay settings, and claims its
recipients from the database (`sending.claim`, `store.claims`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.content.issue import find_issue
from newsletter.delivery.base import Backend
from newsletter.delivery.outbox import Outbox
from newsletter.delivery.relays import smtp_settings
from newsletter.delivery.smtp import SmtpBackend
from newsletter.errors import DeliveryError, InputError, NewsletterError
from newsletter.mail.compose import Composed, compose
from newsletter.mail.webcopy import web_copy
from newsletter.project import Project
from newsletter.sending.claim import Claims, SharedPacer
from newsletter.sending.loop import SendLoop
from newsletter.sending.plan import Plan
from newsletter.sending.report import Progress, SendReport
from newsletter.sending.run import install_signals, keep_snapshot, loop_options
from newsletter.store import claims, connect, connect_waiting, exists
from newsletter.store.connection import Connection, DatabaseError, Location, shown
from newsletter.store.errors import StorageError
from newsletter.store.journal import PATIENCE, Journal
from newsletter.store.locks import Job, SendLock, running

LEASE = 60.0  # seconds a worker's claim lasts without renewal


class NoSend(NewsletterError):
    """No send is open to workers (a failure while working: exit 1)."""


@dataclass(frozen=True)
class WorkerOptions:
    """What `newsletter worker` was asked: which send (default: the one running), the database."""

    issue: str | None = None
    job: int | None = None
    database: Path | str | None = None
    lease: float = LEASE
    wait: float = 0.0  # seconds to wait for a send to open (a worker standing by on another host)


def find_job(location: Location, issue: str | None, job: int | None, wait: float = 0.0) -> Job:
    """The send to join: the only one open, or the one named, waiting up to `wait` seconds for
    one to open; NoSend when there is none."""
    deadline = time.monotonic() + wait
    found = []
    while True:
        if exists(location, PATIENCE):  # a server restarting as a worker starts is waited out
            with connect_waiting(location, PATIENCE) as db:
                found = running(db, issue, job)
        if found or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    what = f"of {issue} " if issue else ""
    if not found:
        raise NoSend(
            f"{shown(location)}: no send {what}is open to workers",
            hint="a send takes workers when started with `newsletter send ISSUE --workers N`",
        )
    if len(found) > 1:
        names = ", ".join(j.issue for j in found)
        raise InputError(f"several sends are open to workers ({names}): name one (`newsletter worker ISSUE`)")
    return found[0]


def run_worker(home: Project, options: WorkerOptions, *, progress: Progress | None = None) -> SendReport:
    """Join the send `options` names (or the one running) and send a share of it until nothing is left."""
    settings = home.settings()
    location: Location = options.database or settings.journal_path
    job = find_job(location, options.issue, options.job, options.wait)
    composed = compose(find_issue(job.issue, home.root), settings)
    if job.content and web_copy(composed).content_hash != job.content:
        raise InputError(
            f"{job.issue}: this project's copy of the issue differs from the one being sent "
            f"(by {job.holder.describe()})",
            hint="bring this folder's issues/, articles/ and templates/ up to date, then start the worker again",
        )
    smtp = smtp_settings(settings.env)
    backend: Backend
    if smtp is not None:
        backend = SmtpBackend(smtp, settings.from_address)
        if example := settings.example_values_in_use():
            raise InputError(f"refusing to send real mail: {'; '.join(example)}", hint="set real values in .env")
    else:
        backend = Outbox(home.root / "outbox" / job.issue)
    if backend.name != job.route:
        raise InputError(
            f"{job.issue} is being sent via {job.route}, but this project's settings send via {backend.name}",
            hint="a worker sends the way the send does: give it the same kind of relay settings (SMTP_HOST)",
        )
    options_loop = loop_options(smtp)
    report = SendReport(issue=job.issue, destination=backend.describe())
    with Journal(location, route=job.route, claimant=claims.worker_name()) as journal:
        ended: list[str] = []

        def alive() -> bool:
            if not running(journal.db, job=job.job):
                ended.append("the send ended")
                return False
            return True

        share = Claims(
            journal, job.job, lease=options.lease, batch=_batch(options_loop.connections), alive=alive, report=report
        )
        loop = SendLoop(composed.factory, backend, journal, options_loop, report, record=True, progress=progress)
        relay = backend.describe()
        if options_loop.rate or options_loop.hourly_limit:
            loop.pacer = SharedPacer(share, relay, rate=options_loop.rate, hourly_limit=options_loop.hourly_limit)
        asyncio.run(_work(loop, share, relay))
    return report


def _batch(connections: int) -> int:
    """Recipients per claim: enough to keep every lane busy between claims, few enough that a
    worker that dies holds little for its lease. A claim is a write transaction (one commit, one
    fsync on a durable database) run between sends on the event loop, every lane waiting on it:
    at 8 a lane, claims took about a quarter of a worker's time (docs/benchmarks.md)."""
    return max(25, min(100, 25 * connections))


async def _work(loop: SendLoop, share: Claims, relay: str) -> None:
    keeper = asyncio.create_task(share.keep(loop.window, relay))
    try:
        with install_signals(loop):
            await loop.run(share.recipients())
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        share.release()


# --- the coordinator: `newsletter send ISSUE --workers N` --------------------------------------


def share_send(
    composed: Composed,
    planned: Plan,
    journal: Journal,
    lock: SendLock,
    home: Project,
    share: Share,
    *,
    destination: str,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> SendReport:
    """Write the plan once (every planned recipient pending, in this run's `job`), open the send
    to workers, start `share.workers` local ones, and follow them until the send is done."""
    issue = composed.issue.slug
    report = planned.report
    report.destination = destination
    if report.total and (warning := keep_snapshot(composed, journal)) is not None and warn is not None:
        warn(warning)
    planned.source.record(journal, issue)
    run = journal.start_run(issue, "send", destination)
    try:
        claims.assign(journal.db, run, issue, journal.route, (s.email for s in planned.recipients()))
        lock.attach(run, web_copy(composed).content_hash)
        workers = start_workers(home, run, share.workers, database=share.database, lease=share.lease)
        stop: list[int] = []
        previous = {signum: signal.signal(signum, lambda n, _f: stop.append(n)) for signum in _STOPS}
        try:
            wait_for_workers(
                journal.path, run, workers, report, lease=share.lease, progress=progress, stopping=lambda: bool(stop)
            )
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        if stop:
            report.interrupted = stop[0]
    finally:
        journal.revive()
        journal.finish_run(run, report.record())
    return report


_STOPS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Share:
    """How a send is shared: local workers to start, the database they use, their claims' lease."""

    workers: int
    lease: float = LEASE
    database: Path | str | None = None


def start_workers(
    home: Project, job: int, count: int, *, database: Path | str | None, lease: float
) -> list[subprocess.Popen[bytes]]:
    """N local `newsletter worker` processes for `job` (they print nothing but errors)."""
    command = [
        sys.executable,
        "-m",
        "newsletter",
        "--project",
        str(home.root),
        "worker",
        "--job",
        str(job),
        "--lease",
        repr(lease),
        "--quiet",
    ]
    if database is not None:
        command += ["--database", str(database)]
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL) for _ in range(count)]


def wait_for_workers(
    location: Location,
    job: int,
    workers: list[subprocess.Popen[bytes]],
    report: SendReport,
    *,
    lease: float,
    progress: Progress | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Follow the workers until they have all left and nothing of the send is in flight (a worker
    on another host may still be finishing its last messages: bounded by a lease)."""
    started = time.perf_counter()
    signalled = False
    db: Connection | None = None
    try:
        while True:
            if stopping() and not signalled:
                signalled = True
                for worker in workers:
                    with contextlib.suppress(ProcessLookupError):
                        worker.send_signal(signal.SIGTERM)
            done = all(worker.poll() is not None for worker in workers)
            try:
                db = db or connect(location)
                _count(db, job, report)
                settled = claims.left(db, job).in_flight == 0
            except (DatabaseError, StorageError):  # the server restarting: the workers wait it out too
                with contextlib.suppress(Exception):
                    if db is not None:
                        db.close()
                db, settled = None, False
            report.elapsed = time.perf_counter() - started
            if progress is not None:
                progress(report)
            if done and (signalled or settled or time.perf_counter() - started > lease + PATIENCE):
                break
            time.sleep(0.2)
    finally:
        if db is not None:
            db.close()
    failed = [w.returncode for w in workers if w.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM)]
    if failed and report.error is None:
        report.error = DeliveryError(f"{len(failed)} of {len(workers)} workers stopped with an error (see above)")


def _count(db: Connection, job: int, report: SendReport) -> None:
    states = claims.counts(db, job)
    report.total = sum(states.values()) - states.get("skipped", 0)
    report.sent = states.get("sent", 0)
    report.failed = states.get("failed", 0)
    if skipped := states.get("skipped", 0):
        report.skipped[claims.UNSUBSCRIBED_SINCE] = skipped
    report.unknown[report.earlier_unknown :] = claims.unknown(db, job)
