"""SMTP replies read off a connection in order, so commands can be pipelined (RFC 2920).

aiosmtplib opens the session (TLS, EHLO, STARTTLS, AUTH); its protocol then expects exactly
one reply per command awaited, and drops anything that arrives early. After the session is
open this protocol takes over the transport. Whoever writes commands says how many replies
they will get (`send`) and receives one future per reply; replies arrive in the order the
commands went out, so each future is resolved in turn. MAIL, RCPT and DATA can go out in one
write, and a second transaction's envelope can follow the first one's body before its reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Sequence

MAX_REPLY = 64 * 1024
Reply = tuple[int, str]
# Linux only; elsewhere the kernel's delayed ACK stays as it is.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class Lost(ConnectionError):
    """The connection closed (or sent garbage) before the replies we wait for arrived."""


class ReplyTimeout(Exception):
    """No reply within the time allowed (the connection is then closed)."""


class ReplyReader(asyncio.Protocol):
    """Parses complete replies (`code SP text`, after any `code-text` lines) and hands each to
    the future of the command it answers."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.WriteTransport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()
        self.buffer = bytearray()
        self.lines: list[str] = []
        self.expected: deque[asyncio.Future[Reply]] = deque()
        self.lost: Exception | None = None
        self.socket: socket.socket | None = transport.get_extra_info("socket")
        if self.socket is not None:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ack_now()
        transport.set_protocol(self)

    def _ack_now(self) -> None:
        """Acknowledge what arrives at once rather than after the kernel's delayed-ACK timer.

        A pipelined envelope's three replies may leave the relay as separate small writes;
        a relay with Nagle's algorithm on (smtp-sink, many others) holds the second until the
        first is acknowledged, and we send nothing to carry that ACK until all three are in,
        so the kernel waits up to 40 ms to send it. Measured: about 2% of envelopes stalled
        40 ms and a loopback send ran at a fifth of its speed. Linux leaves quick-ACK mode on
        its own, so it is asked for again on every read (one cheap system call).
        """
        if self.socket is not None and _QUICKACK is not None:
            with contextlib.suppress(OSError):  # already closed: nothing to acknowledge
                self.socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    @property
    def open(self) -> bool:
        return self.lost is None and not self.transport.is_closing()

    def data_received(self, data: bytes) -> None:
        self._ack_now()
        buffer = self.buffer
        buffer += data
        start = 0
        while (end := buffer.find(b"\n", start)) != -1:
            line = bytes(buffer[start:end]).rstrip(b"\r")
            start = end + 1
            if len(line) < 3 or not line[:3].isdigit():
                self.fail(Lost(f"malformed reply {line[:60]!r}"))
                return
            self.lines.append(line[4:].decode("utf-8", "replace").strip())
            if line[3:4] != b"-":
                reply = (int(line[:3]), "\n".join(self.lines))
                self.lines = []
                if not self.expected:
                    self.fail(Lost(f"a reply nobody asked for: {reply[0]}"))
                    return
                waiter = self.expected.popleft()
                if not waiter.done():
                    waiter.set_result(reply)
        del buffer[:start]
        if len(buffer) > MAX_REPLY:
            self.fail(Lost("reply too long"))

    def eof_received(self) -> bool:
        self.fail(Lost("connection closed by the server"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(Lost(f"connection lost: {exc}" if exc else "connection lost"))

    def fail(self, exc: Exception) -> None:
        """Close the connection; every reply still awaited raises `exc` (the first cause)."""
        if self.lost is None:
            self.lost = exc
        while self.expected:
            waiter = self.expected.popleft()
            if not waiter.done():
                waiter.set_exception(self.lost)
                waiter.exception()  # retrieved: a lane that went away leaves no warning behind
        if not self.transport.is_closing():
            self.transport.close()

    def send(self, data: bytes, replies: int) -> list[asyncio.Future[Reply]]:
        """Write commands (and/or a message body) that `replies` replies will answer."""
        if not self.open:
            raise self.lost or Lost("connection closed")
        self.transport.write(data)
        waiters = [self.loop.create_future() for _ in range(replies)]
        self.expected.extend(waiters)
        return waiters

    async def wait(self, waiters: Sequence[asyncio.Future[Reply]], timeout: float) -> list[Reply]:
        """The replies, in order; one timer for all of them. A timeout closes the connection."""
        timer = self.loop.call_later(timeout, self.fail, ReplyTimeout(f"no reply within {timeout:g} s"))
        try:
            return [await waiter for waiter in waiters]
        finally:
            timer.cancel()

    async def command(self, line: bytes, timeout: float) -> Reply:
        return (await self.wait(self.send(line, 1), timeout))[0]

    def close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()
