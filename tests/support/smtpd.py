"""A real aiosmtpd server on 127.0.0.1, port 0, in a thread of the test process.

The handler records every message it accepts with its receive time. Failures are injected
the way aiosmtplib's own tests do it: by swapping one command's reply, never by mocking the
client. `server.inject("MAIL", "421 4.7.0 slow down")` makes the next MAIL get that reply;
`"drop"` closes the connection instead of replying (for DATA: before the 354, so no body goes
out and the client may safely try again); `"drop-mid-body"` (DATA only) answers 354, reads a
few lines of the message and closes: the client has sent its whole body by then and cannot
know how much of it arrived; `("sleep", 2.0)` answers late. `server.faults(temporary=0.05, drop=0.01)` makes
a share of transactions fail at a random command (seeded, so runs repeat);
`server.refuse_everything(10)` answers 421 to every command for ten seconds.

The reply to the final dot can be lost after the message was kept, as RFC 5321 (6.1) warns:
for a recipient in `handler.close_after_storing` the relay stores the message, then closes the
connection without a reply; for one in `handler.hold_after_storing` it stores it and never
replies until the client closes the connection. `handler.inspect` sees each message's
recipients before the relay accepts it and returns a problem to record (in
`handler.problems`), so a test can check the client's state at that moment.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

Action = str | tuple[str, float]
PATIENCE = 30.0  # seconds to wait for an event that should come at once (a bound, not a measure)


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    at: float
    peer: tuple[str, int]

    @property
    def message_id(self) -> str:
        return str(message_from_bytes(self.data)["Message-ID"])


@dataclass
class Recorder:
    """The aiosmtpd handler: accepts everything except the recipients it is told to refuse."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply to RCPT
    delay: float = 0.0  # seconds before every reply, for a relay far away
    after_data: deque[Action] = field(default_factory=deque)  # replies to the final dot, used once each
    lock: threading.Lock = field(default_factory=threading.Lock)
    pipelining: bool = True  # advertise RFC 2920 (aiosmtpd reads commands in order either way)
    early_after_data: int = 0  # commands already waiting when a delayed end-of-data reply went out
    close_after_storing: set[str] = field(default_factory=set)  # kept, then the connection closed: no reply
    hold_after_storing: set[str] = field(default_factory=set)  # kept, then no reply until the client hangs up
    inspect: Callable[[tuple[str, ...]], str | None] | None = None  # a problem to record, or None
    problems: list[str] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if self.pipelining else responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            action = self.after_data.popleft() if self.after_data else None
        if isinstance(action, tuple):
            await asyncio.sleep(action[1])  # slow, then accepts: the client may have given up
            if server._reader._buffer:  # the client wrote on before this reply: its next envelope
                self.early_after_data += 1
        elif action is not None:
            return action
        recipients = tuple(envelope.rcpt_tos)
        if self.inspect is not None and (problem := self.inspect(recipients)) is not None:
            with self.lock:
                self.problems.append(problem)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, recipients, bytes(envelope.content), time.monotonic(), session.peer)
            )
            close = not self.close_after_storing.isdisjoint(recipients)
            hold = not self.hold_after_storing.isdisjoint(recipients)
        if close:
            server.transport.close()
        if close or hold:
            # aiosmtpd cancels this handler when the connection closes, so the 250 never goes out;
            # the sleep only bounds a client that neither replies nor hangs up.
            await asyncio.sleep(60)
        return "250 2.0.0 queued"

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for message in self.received for r in message.recipients]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Until `condition` holds; fails naming `what` after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


class HeldReplies(Recorder):
    """Keeps the first message to each address in `held` but answers it only once `release` is
    set (or after PATIENCE seconds): a reply held back for as long as a test needs, by event.
    `rcpts` lists every RCPT TO as it arrives."""

    def __init__(self, held: set[str]) -> None:
        super().__init__()
        self.held = held
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.rcpts: list[str] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.lock:
            self.rcpts.append(address)
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.held.isdisjoint(envelope.rcpt_tos):
            self.held -= set(envelope.rcpt_tos)
            self.arrived.set()
            deadline = time.monotonic() + PATIENCE
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


class InjectingSMTP(SMTP):  # type: ignore[misc]
    """aiosmtpd's server with one-shot replacements for MAIL, RCPT, DATA and end-of-DATA."""

    def __init__(self, owner: Server, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fate: tuple[str, Action] | None = None  # this transaction's drawn fault, if any

    async def _injected(self, command: str) -> bool:
        if command == "MAIL":
            self.fate = self.owner.draw()
        action = self.owner.take(command)
        if action is None and self.fate is not None and self.fate[0] == command:
            action, self.fate = self.fate[1], None
        if action is None:
            action = self.owner.refusal()
        if action is None:
            return False
        if isinstance(action, tuple):
            await asyncio.sleep(action[1])
            if self._reader._buffer:  # the client wrote on before this reply: pipelining
                self.owner.early_commands += 1
            return False
        if action in ("drop", "drop-mid-body"):
            if action == "drop-mid-body":
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                for _ in range(3):
                    await self._reader.readline()
            self.transport.close()
            return True
        await self.push(action)
        return True

    async def smtp_MAIL(self, arg: str) -> None:
        if not await self._injected("MAIL"):
            await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str) -> None:
        if not await self._injected("RCPT"):
            await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:
        if not await self._injected("DATA"):
            await super().smtp_DATA(arg)


class Server:
    """Runs the server's event loop in a daemon thread; `port` is the one the OS chose."""

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
        delay: float = 0.0,
        pipelining: bool = True,
        port: int = 0,
    ) -> None:
        self.handler = Recorder(delay=delay, pipelining=pipelining)
        self.tls = tls
        self.users = users
        self.actions: dict[str, deque[Action]] = {}
        self.logins: list[tuple[str, bool]] = []
        self.early_commands = 0  # commands already waiting when a delayed reply went out
        self.fault_rates = (0.0, 0.0)
        self.random = random.Random(1)
        self.refusing = (0.0, "")
        self._lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.port = port
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def inject(self, command: str, *actions: Action) -> None:
        with self._lock:
            self.actions.setdefault(command, deque()).extend(actions)

    def faults(self, *, temporary: float = 0.0, drop: float = 0.0, seed: int = 1) -> None:
        """From now on a share of transactions gets a 4xx, another a dropped connection."""
        with self._lock:
            self.fault_rates = (temporary, drop)
            self.random = random.Random(seed)

    def refuse_everything(self, seconds: float, reply: str = "421 4.7.0 try again later") -> None:
        with self._lock:
            self.refusing = (time.monotonic() + seconds, reply)

    def draw(self) -> tuple[str, Action] | None:
        """The fault, if any, of a transaction that starts now: (command, action)."""
        with self._lock:
            temporary, drop = self.fault_rates
            if not (temporary or drop):
                return None
            chance, command = self.random.random(), self.random.choice(("MAIL", "RCPT", "DATA"))
        if chance < drop:
            return command, "drop"
        if chance < drop + temporary:
            return command, "451 4.3.0 temporary failure, try again"
        return None

    def refusal(self) -> Action | None:
        with self._lock:
            until, reply = self.refusing
        return reply if time.monotonic() < until else None

    def take(self, command: str) -> Action | None:
        with self._lock:
            queue = self.actions.get(command)
            return queue.popleft() if queue else None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.users is not None
            and self.users.get(data.login.decode()) == data.password.decode()
        )
        self.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "", ok))
        return AuthResult(success=ok, handled=False)

    def _protocol(self) -> InjectingSMTP:
        options: dict[str, Any] = {"hostname": "relay.test", "loop": self.loop}
        if self.tls is not None:
            options.update(tls_context=self.tls, require_starttls=True)
        if self.users is not None:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=self.tls is not None)
        return InjectingSMTP(self, self.handler, **options)

    def start(self) -> Server:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(self._protocol, "127.0.0.1", self.port), self.loop
        )
        self.server = future.result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
