"""The delivery loop: recipients stream through a bounded queue to N workers, one session each.

Memory stays flat however long the list: the queue holds a few recipients per connection and
each message is built just before it is sent. The journal is written through one buffer and
committed in groups: a worker waits for the commit of its recipient's `sending` state right
before DATA (so a crash leaves at most the in-flight recipients uncertain), and outcomes are
committed at most `commit_interval` apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from newsletter.audience import Subscriber
from newsletter.delivery.base import Backend, Permanent, RelayUnavailable, Session, Spent, Temporary, Uncertain
from newsletter.delivery.pacing import LoopOptions, Pacer, Window, backoff
from newsletter.errors import DeliveryError, InputError
from newsletter.message import MessageFactory
from newsletter.store.journal import FAILED, PENDING, SENDING, SENT, Journal

MAX_LISTED_FAILURES = 1000

__all__ = ["LoopOptions", "SendLoop", "SendReport"]


@dataclass
class SendReport:
    """What a send (or a dry run, or a test send) did, for progress and the closing summary."""

    issue: str
    destination: str
    dry_run: bool = False
    test: bool = False
    total: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unknown: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    bytes: int = 0
    elapsed: float = 0.0
    interrupted: int | None = None  # the signal that stopped the send
    error: DeliveryError | None = None
    late: str | None = None  # the --not-after time, when the send stopped at it
    earlier_unknown: int = 0  # of `unknown`, those left by an earlier send (not tried in this one)
    edition: str = ""  # a test copy's ward edition (its wards), when not the edition for everyone

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def new_unknown(self) -> int:
        return len(self.unknown) - self.earlier_unknown

    @property
    def pending(self) -> int:
        """Recipients of this run not yet tried, or waiting for a retry, when it ended."""
        return 0 if self.dry_run else max(0, self.total - self.done - self.new_unknown)

    def outcome(self) -> str:
        if self.error is not None:
            return f"stopped: {self.error}"
        if self.interrupted is not None:
            return f"interrupted by {signal.Signals(self.interrupted).name}"
        if self.late is not None:
            return f"stopped at --not-after {self.late}"
        return "complete" if not self.pending else "stopped"

    def record(self) -> str:
        """The outcome with the counts, as the journal keeps it for each run."""
        return f"{self.outcome()}: {self.sent} sent, {self.failed} failed, {len(self.unknown)} unknown"


Progress = Callable[[SendReport], None]


@dataclass(eq=False)
class _Item:
    subscriber: Subscriber
    first_try: float = 0.0
    tries: int = 0  # tries that count against the retry limit (throttling does not)


class _Committer:
    """Commits the journal's buffer when a worker waits for it, and at least every interval."""

    def __init__(self, journal: Journal, interval: float) -> None:
        self.journal = journal
        self.interval = interval
        self.waiters: list[asyncio.Future[None]] = []
        self.wake = asyncio.Event()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            self.flush()

    def flush(self) -> None:
        waiters, self.waiters = self.waiters, []
        try:
            self.journal.flush()
        except DeliveryError as exc:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def committed(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        self.wake.set()
        await waiter


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
        self.not_after = not_after  # take no new recipient after this time (a scheduled send started late)
        self.guard = guard  # says why the send must stop (the send lock was lost), or None
        self.factory = factory
        self.backend = backend
        self.journal = journal
        self.options = options
        self.report = report
        self.record = record
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
        self.retries: list[tuple[float, int, _Item]] = []
        self.active = 0
        self.feed_done = False
        self._sequence = 0
        self.stop = asyncio.Event()
        self.queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=4 * self.lanes)
        self.committer = _Committer(journal, options.commit_interval)
        self.wire = backend.wire
        self.workers: list[asyncio.Task[None]] = []

    def interrupt(self, signum: int) -> None:
        """First signal: take no new recipients, finish those in flight. Second: stop at once."""
        if self.report.interrupted is not None:
            for task in self.workers:
                task.cancel()
        self.report.interrupted = signum
        self.stop.set()

    async def run(self, recipients: Iterator[Subscriber]) -> None:
        started = time.perf_counter()
        helpers = [asyncio.create_task(self.committer.run()), asyncio.create_task(self._feed(recipients))]
        if self.progress is not None:
            helpers.append(asyncio.create_task(self._tick(started)))
        self.workers = [asyncio.create_task(self._worker()) for _ in range(self.lanes)]
        try:
            outcomes = await asyncio.gather(*self.workers, return_exceptions=True)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self.committer.flush()
            self.report.elapsed = time.perf_counter() - started
            if self.progress is not None:
                self.progress(self.report)
        # A worker's unexpected exception is a bug to show, never a silent "0 sent, 0 failed".
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                raise outcome

    async def _tick(self, started: float) -> None:
        assert self.progress is not None
        while True:
            await asyncio.sleep(self.options.progress_interval)
            self.report.elapsed = time.perf_counter() - started
            self.progress(self.report)

    async def _feed(self, recipients: Iterator[Subscriber]) -> None:
        try:
            for subscriber in recipients:
                if self.stop.is_set():
                    return
                await self.queue.put(_Item(subscriber))
        finally:
            self.feed_done = True

    def _must_stop(self) -> bool:
        if self.not_after is not None and time.time() > self.not_after.timestamp():
            self.report.late = self.not_after.isoformat(timespec="minutes")
            self.stop.set()
        elif self.guard is not None and (reason := self.guard()) is not None:
            if self.report.error is None:
                self.report.error = DeliveryError(reason)
            self.stop.set()
        return self.stop.is_set()

    async def _next(self) -> _Item | None:
        while not self._must_stop():
            now = time.monotonic()
            if self.retries and self.retries[0][0] <= now:
                return heapq.heappop(self.retries)[2]
            if not self.queue.empty():
                return self.queue.get_nowait()
            if self.feed_done and not self.retries and self.active == 0:
                return None
            wait = min(0.05, self.retries[0][0] - now) if self.retries else 0.05
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(self.queue.get(), max(wait, 0.001))
        return None

    async def _worker(self) -> None:
        session: Session | None = None
        try:
            while (item := await self._next()) is not None:
                self.active += 1
                try:
                    session = await self._attempt(item, session)
                except DeliveryError as exc:
                    if self.report.error is None:
                        self.report.error = exc
                    self.stop.set()
                    return
                finally:
                    self.active -= 1
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

    async def _attempt(self, item: _Item, session: Session | None) -> Session | None:
        if not await self.window.enter(self.stop):
            return session  # stopping: the recipient stays pending
        try:
            return await self._paced(item, session)
        finally:
            self.window.leave()

    async def _paced(self, item: _Item, session: Session | None) -> Session | None:
        if not await self.pacer.acquire(self.stop):
            return session
        if session is not None and not session.usable:
            await session.close()
            session = None
        if session is None and (session := await self._open()) is None:
            return None
        email = item.subscriber.email
        try:
            message = self.factory.build(item.subscriber, wire=self.wire)
        except (InputError, ValueError, UnicodeError) as exc:  # e.g. an address no header can carry
            reason = f"message not built: {exc}"
            self._settle(email, FAILED, reason)
            self._failed(email, reason)
            return session
        if not item.first_try:
            item.first_try = time.monotonic()
        if self.record:
            self.journal.mark_sending(self.issue, email, message.message_id, message.edition)
        try:
            reply = await session.deliver(message, self.committer.committed if self.record else _nothing)
        except Spent as exc:  # nothing was sent: again at once, on a fresh connection
            self._settle(email, PENDING, exc.reply)
            self._sequence += 1
            heapq.heappush(self.retries, (time.monotonic(), self._sequence, item))
        except Temporary as exc:
            self._retry_later(item, exc)
        except Permanent as exc:
            self._settle(email, FAILED, exc.reply)
            self._failed(email, exc.reply)
        except Uncertain as exc:
            self._settle(email, SENDING, exc.reply)
            self.report.unknown.append(email)
        except DeliveryError as exc:
            self._settle(email, PENDING, str(exc))
            raise
        else:
            self._settle(email, SENT, reply)
            self.report.sent += 1
            self.report.bytes += len(message.data)
            self.window.succeeded()
        return session

    def _settle(self, email: str, state: str, reply: str) -> None:
        if self.record:
            self.journal.settle(self.issue, email, state, reply)

    def _failed(self, email: str, reply: str) -> None:
        self.report.failed += 1
        if len(self.report.failures) < MAX_LISTED_FAILURES:
            self.report.failures.append((email, reply))

    def _retry_later(self, item: _Item, exc: Temporary) -> None:
        email = item.subscriber.email
        # A fault that is part of a cluster (the relay throttling) does not use up attempts.
        if not (exc.fault and self.window.fault()):
            item.tries += 1
        late = time.monotonic() - item.first_try > self.options.retry_deadline
        if item.tries >= self.options.retry_attempts or late:
            self._settle(email, FAILED, exc.reply)
            self._failed(email, exc.reply)
            return
        self._settle(email, PENDING, exc.reply)
        # A recipient's own trouble (a full mailbox) backs off exponentially; a relay fault says
        # nothing about the recipient, and the window already slows the send if faults cluster,
        # so it is retried after the base delay (a sporadic fault must not leave a long tail).
        delay = backoff(1 if exc.fault else max(1, item.tries), self.options.retry_delay)
        self._sequence += 1
        heapq.heappush(self.retries, (time.monotonic() + delay, self._sequence, item))
        self.report.retried += 1


@contextlib.contextmanager
def install_signals(loop: SendLoop) -> Iterator[None]:
    """SIGINT and SIGTERM stop the send cleanly (in flight finished, journal committed)."""
    running = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        running.add_signal_handler(signum, loop.interrupt, signum)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            running.remove_signal_handler(signum)
