"""SMTP replies read off a connection in order, so commands can be pipelined (RFC 2920).

aiosmtplib opens the session (TLS, EHLO, STARTTLS, AUTH); its protocol then expects exactly
one reply per command awaited, and drops anything that arrives early. After the session is
open this protocol takes over the transport: every reply is parsed as it arrives and queued,
so MAIL, RCPT and DATA can go out in one write and their three replies be read together.
"""

from __future__ import annotations

import asyncio
from collections import deque

MAX_REPLY = 64 * 1024


class Lost(ConnectionError):
    """The connection closed (or sent garbage) before the replies we wait for arrived."""


class ReplyTimeout(TimeoutError):
    """No reply within the time allowed."""


class ReplyReader(asyncio.Protocol):
    """Parses complete replies (`code SP text`, after any `code-text` lines) into a queue."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.WriteTransport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()
        self.buffer = bytearray()
        self.lines: list[str] = []
        self.replies: deque[tuple[int, str]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.wanted = 0
        self.lost: Exception | None = None
        transport.set_protocol(self)

    @property
    def open(self) -> bool:
        return self.lost is None and not self.transport.is_closing()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while (end := buffer.find(b"\n", start)) != -1:
            line = bytes(buffer[start:end]).rstrip(b"\r")
            start = end + 1
            if len(line) < 3 or not line[:3].isdigit():
                self._fail(Lost(f"malformed reply {line[:60]!r}"))
                return
            self.lines.append(line[4:].decode("utf-8", "replace").strip())
            if line[3:4] != b"-":
                self.replies.append((int(line[:3]), "\n".join(self.lines)))
                self.lines = []
        del buffer[:start]
        if len(buffer) > MAX_REPLY:
            self._fail(Lost("reply too long"))
            return
        self._wake()

    def eof_received(self) -> bool:
        self._fail(Lost("connection closed by the server"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(Lost(f"connection lost: {exc}" if exc else "connection lost"))

    def _fail(self, exc: Exception) -> None:
        if self.lost is None:
            self.lost = exc
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        if not self.transport.is_closing():
            self.transport.close()

    def _wake(self) -> None:
        if self.waiter is not None and len(self.replies) >= self.wanted and not self.waiter.done():
            self.waiter.set_result(None)

    def write(self, data: bytes) -> None:
        if not self.open:
            raise self.lost or Lost("connection closed")
        self.transport.write(data)

    async def read(self, count: int, timeout: float) -> list[tuple[int, str]]:
        """The next `count` replies, in order; one timer for all of them."""
        if len(self.replies) < count:
            if self.lost is not None:
                raise self.lost
            self.wanted = count
            self.waiter = self.loop.create_future()
            timer = self.loop.call_later(timeout, self._timeout, self.waiter)
            try:
                await self.waiter
            finally:
                timer.cancel()
                self.waiter = None
            if len(self.replies) < count:
                raise self.lost or ReplyTimeout(f"no reply within {timeout:g} s")
        return [self.replies.popleft() for _ in range(count)]

    @staticmethod
    def _timeout(waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
