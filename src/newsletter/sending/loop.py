"""The delivery loop: N workers, one session each, take recipients from the schedule and send.

Each message is built just before it is sent. Before its body goes out, the recipient's
`sending` state is committed (the committer batches these commits, in its own writer thread),
so a crash leaves at most the recipients in flight "unknown". The parts: `schedule` (who next, when to stop), `outcomes`
(what a reply does to the journal and the report), `committer` (journal batching), and the
pacing of `delivery.pacing` (rate, hourly budget, the concurrency window).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable, Iterator

from newsletter.audience.people import Subscriber
from newsletter.delivery.base import Backend, Permanent, RelayUnavailable, Session, Spent, Temporary, Uncertain
from newsletter.delivery.pacing import LoopOptions, Pacer, Window, backoff
from newsletter.errors import DeliveryError, InputError
from newsletter.mail.message import MessageFactory
from newsletter.sending.committer import JournalCommitter
from newsletter.sending.outcomes import Outcomes
from newsletter.sending.report import Progress, SendReport, tick
from newsletter.sending.schedule import Item, Schedule
from newsletter.store.connection import DatabaseError, reason, shown
from newsletter.store.journal import PENDING, Journal

__all__ = ["CLAIMED_ELSEWHERE", "ClaimLost", "SendLoop"]
CLAIMED_ELSEWHERE = "claimed by another worker (this one's lease ran out)"


async def _nothing() -> None:
    return None


class SendLoop:
    """One run of the delivery loop over a stream of recipients."""

    def __init__(
        self,
        factory: MessageFactory,
        backend: Backend,
        journal: Journal,
        options: LoopOptions,
        report: SendReport,
        *,
        record: bool,
        progress: Progress | None = None,
        not_after: dt.datetime | None = None,
        guard: Callable[[], str | None] | None = None,
    ) -> None:
        self.factory = factory
        self.backend = backend
        self.journal = journal
        self.options = options
        self.report = report
        self.record = record  # False for a test send: the report counts, the journal keeps no state
        self.progress = progress
        self.issue = report.issue
        self.pacer = Pacer(
            rate=options.rate,
            hourly_limit=options.hourly_limit,
            batch_size=options.batch_size,
            batch_pause=options.batch_pause,
        )
        # Deliveries under way at once: each connection carries `lanes` of them (SMTP: two, so
        # one transaction's envelope can follow the other's body on the wire).
        self.lanes = options.connections * backend.lanes
        self.window = Window(self.lanes, pause=max(options.retry_delay, 0.05))
        self.schedule = Schedule(self.lanes, report, not_after=not_after, guard=guard)
        self.stop = self.schedule.stop
        self.outcomes = Outcomes(journal, report, self.schedule, self.window, options, record=record)
        self.committer = JournalCommitter(journal, options.commit_interval)
        self.wire = backend.wire
        self.workers: list[asyncio.Task[None]] = []

    def interrupt(self, signum: int) -> None:
        """First signal: take no new recipients, finish those in flight. Second: stop at once."""
        if self.report.interrupted is not None:
            for task in self.workers:
                task.cancel()
        self.report.interrupted = signum
        self.stop.set()

    async def run(self, recipients: Iterator[Subscriber] | AsyncIterator[Subscriber]) -> None:
        started = time.perf_counter()
        feed = asyncio.create_task(self.schedule.feed(recipients))
        helpers = [asyncio.create_task(self.committer.run()), feed]
        if self.progress is not None:
            helpers.append(
                asyncio.create_task(tick(self.progress, self.report, self.options.progress_interval, started))
            )
        self.workers = [asyncio.create_task(self._worker()) for _ in range(self.lanes)]
        try:
            outcomes = await asyncio.gather(*self.workers, return_exceptions=True)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            try:
                await self.committer.flush()
            finally:
                self.committer.close()
            self.report.elapsed = time.perf_counter() - started
            if self.progress is not None:
                self.progress(self.report)
        # The stream of recipients failing (the database gone for good while reading the plan or
        # claiming) ends the send out loud, never as a short send that looks complete.
        if not feed.cancelled() and (problem := feed.exception()) is not None:
            if isinstance(problem, DatabaseError):
                where = shown(self.journal.path)
                problem = DeliveryError(f"{where}: the list could not be read: {reason(problem)}")
            if not isinstance(problem, DeliveryError):
                raise problem
            if self.report.error is None:
                self.report.error = problem
        # A worker's unexpected exception is a bug to show, never a silent "0 sent, 0 failed".
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome

    async def _worker(self) -> None:
        session: Session | None = None
        try:
            while (item := await self.schedule.next()) is not None:
                self.schedule.active += 1
                try:
                    session = await self._attempt(item, session)
                except DeliveryError as exc:
                    if self.report.error is None:
                        self.report.error = exc
                    self.stop.set()
                    return
                finally:
                    self.schedule.active -= 1
        finally:
            if session is not None:
                await session.close()

    async def _open(self) -> Session | None:
        """A usable session, reconnecting with backoff; None if the send stops meanwhile."""
        problems = 0
        while not self.stop.is_set():
            try:
                return await self.backend.open()  # raises DeliveryError once no relay is left
            except RelayUnavailable:
                problems += 1
                self.window.fault()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), backoff(problems, self.options.retry_delay or 0.1, 30))
        return None

    async def _attempt(self, item: Item, session: Session | None) -> Session | None:
        if not await self.window.enter(self.stop):
            return session  # stopping: the recipient stays pending
        try:
            if not await self.pacer.acquire(self.stop):
                return session
            if session is not None and not session.usable:
                await session.close()
                session = None
            if session is None and (session := await self._open()) is None:
                return None
            if await self._deliver(item, session):
                return session
            await session.close()  # its envelope may be waiting for a body that must not go out
            return None
        finally:
            self.window.leave()

    async def _deliver(self, item: Item, session: Session) -> bool:
        """Build, mark `sending`, hand over, and settle one recipient by the relay's reply."""
        email = item.subscriber.email
        try:
            message = self.factory.build(item.subscriber, wire=self.wire)
        except (InputError, ValueError, UnicodeError) as exc:  # e.g. an address no header can carry
            self.outcomes.failed(email, f"message not built: {exc}")
            return True
        if not item.first_try:
            item.first_try = time.monotonic()
        if self.record:
            self.journal.mark_sending(self.issue, email, message.message_id, message.edition)

        async def committed() -> None:
            await self.committer.committed()
            if email.lower() in self.journal.lost:  # a worker sharing the send lost this claim
                raise ClaimLost(f"{email}: claimed by another worker meanwhile")

        try:
            reply = await session.deliver(message, committed if self.record else _nothing)
        except ClaimLost:
            self.journal.lost.discard(email.lower())
            self.report.skipped[CLAIMED_ELSEWHERE] += 1
            self.report.total -= 1
            return False
        except Spent as exc:
            self.outcomes.spent(item, exc.reply)
        except Temporary as exc:
            self.outcomes.temporary(item, exc)
        except Permanent as exc:
            self.outcomes.failed(email, exc.reply)
        except Uncertain as exc:
            self.outcomes.unknown(email, exc.reply)
        except DeliveryError as exc:
            self.outcomes.settle(email, PENDING, str(exc))
            raise
        else:
            self.outcomes.sent(email, reply, len(message.data))
        return True


class ClaimLost(DeliveryError):
    """The worker's claim on a recipient was gone when it came to mark them `sending` (its lease
    ran out while it was stalled, and another worker took them): the body must not go out."""
