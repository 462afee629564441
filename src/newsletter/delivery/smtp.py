"""The SMTP backend: persistent aiosmtplib connections to one or several relays.

aiosmtplib opens the session (TLS, EHLO, STARTTLS, AUTH). Then `ReplyReader` takes over the
connection: MAIL, RCPT and DATA go out in one write when the relay offers PIPELINING, and the
body goes out as the message factory made it (CRLF line ends, dot-stuffed, the final dot), so
no per-message regular expression runs (aiosmtplib's cost 39% of its ~550 us a message,
DESIGN.md). Doing it here also tells us exactly how far a transaction got: a relay that goes
silent or drops the connection after the final dot may still have taken the message, so that
recipient is left unknown instead of being sent twice; a connection lost before the body went
out is only a temporary failure (nothing was sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

import aiosmtplib

from newsletter.delivery.base import BeforeData, Permanent, RelayUnavailable, Spent, Temporary, Uncertain
from newsletter.delivery.relays import Relay, SmtpSettings
from newsletter.delivery.replies import Lost, ReplyReader, ReplyTimeout
from newsletter.errors import DeliveryError
from newsletter.mail.message import OutgoingMessage, wire_form

# Replies that mean "slow down" rather than "this message has a problem" (RFC 5321, 4.2.3).
THROTTLE_CODES = frozenset({421, 450, 451, 454})


def _reply(relay: Relay, code: int, text: str) -> str:
    return f"{relay}: {code} {' '.join(text.split())}".rstrip()


def _hint(problems: str) -> str:
    """What to check, for the problem there was (a refused connection is not a password)."""
    if "login" in problems:
        return "check SMTP_USERNAME and SMTP_PASSWORD (or the user and password in SMTP_URLS)"
    if "TLS" in problems:
        return "check SMTP_SECURITY (starttls on 587, tls on 465) and SMTP_CA_FILE"
    if "unknown host" in problems:
        return "check the host name in SMTP_HOST / SMTP_URLS"
    return "check SMTP_HOST and SMTP_PORT (or SMTP_URLS), and that the relay is running and reachable"


class RelayRotation:
    """Relays shared round-robin; one that keeps failing is taken out of rotation."""

    def __init__(self, relays: tuple[Relay, ...], *, strikes: int = 3) -> None:
        self.relays = list(relays)
        self.strikes = strikes
        self.failures = dict.fromkeys(relays, 0)
        self.out: dict[Relay, str] = {}
        self._next = 0

    def pick(self) -> Relay:
        usable = [r for r in self.relays if r not in self.out]
        if not usable:
            problems = "; ".join(self.out.values())
            raise DeliveryError(problems or "no SMTP relay configured", hint=_hint(problems))
        relay = usable[self._next % len(usable)]
        self._next += 1
        return relay

    def failed(self, relay: Relay, problem: RelayUnavailable) -> None:
        self.failures[relay] += 1
        if problem.lasting or self.failures[relay] >= self.strikes:
            self.out[relay] = problem.reply

    def worked(self, relay: Relay) -> None:
        self.failures[relay] = 0


class SmtpBackend:
    """Opens sessions on the relays in turn. Each connection carries two sessions ("lanes"):
    with PIPELINING the second lane's envelope follows the first lane's body on the wire, so a
    message costs one round trip a connection rather than two."""

    name = "smtp"
    wire = True  # messages are wanted dot-stuffed and ending in CRLF.CRLF
    lanes = 2

    def __init__(self, settings: SmtpSettings, sender: str) -> None:
        self.settings = settings
        self.sender = f"MAIL FROM:<{sender}>\r\n".encode("ascii")
        self.rotation = RelayRotation(settings.relays)
        self.connections = settings.connections
        self._tls = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
        self._shared: list[SmtpConnection] = []
        self._opening = 0

    def describe(self) -> str:
        return self.settings.describe()

    async def open(self) -> SmtpSession:
        """A lane on an open connection with room, else on a new connection."""
        while True:
            self._shared = [c for c in self._shared if c.usable or c.lanes]
            for connection in self._shared:
                if connection.usable and connection.lanes < self.lanes:
                    connection.lanes += 1
                    return SmtpSession(connection)
            usable = sum(1 for c in self._shared if c.usable)
            if self._opening == 0 or usable + self._opening < self.connections:
                break
            await asyncio.sleep(0.005)  # a connection is being opened: its second lane is ours
        self._opening += 1
        try:
            connection = await self._connect()
        finally:
            self._opening -= 1
        connection.lanes = 1
        self._shared.append(connection)
        return SmtpSession(connection)

    async def _connect(self) -> SmtpConnection:
        relay = self.rotation.pick()
        client = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            timeout=self.settings.timeout,
            use_tls=relay.security == "tls",
            start_tls=relay.security == "starttls",
            tls_context=self._tls if relay.security != "none" else None,
        )
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()
            if relay.username:
                await client.login(relay.username, relay.password)
        except BaseException as exc:
            client.close()
            problem = _connect_problem(relay, exc)
            if problem is None:
                raise
            self.rotation.failed(relay, problem)
            raise problem from None  # the cause may quote the AUTH exchange
        self.rotation.worked(relay)
        return SmtpConnection(self, relay, client)


def _connect_problem(relay: Relay, exc: BaseException) -> RelayUnavailable | None:
    """Name what went wrong while opening a session, in one line without the password."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return RelayUnavailable(
            f"{_reply(relay, exc.code, exc.message)} (login as the SMTP user refused)", lasting=True
        )
    if isinstance(exc, ssl.SSLError) or "TLS" in str(exc) or isinstance(exc.__cause__, ssl.SSLError):
        return RelayUnavailable(f"{relay}: TLS failed: {exc}", lasting=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return RelayUnavailable(_reply(relay, exc.code, exc.message), lasting=exc.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPConnectError) and isinstance(exc.__cause__, socket.gaierror):
        return RelayUnavailable(f"{relay}: unknown host", lasting=True)
    if isinstance(exc, aiosmtplib.SMTPException | OSError):
        return RelayUnavailable(f"{relay}: cannot connect: {exc}", lasting=False)
    return None


class SmtpSession:
    """One lane of a connection: what the send loop holds and delivers through."""

    def __init__(self, connection: SmtpConnection) -> None:
        self.connection = connection
        self.closed = False

    @property
    def usable(self) -> bool:
        return not self.closed and self.connection.usable

    async def deliver(self, message: OutgoingMessage, before_data: BeforeData) -> str:
        return await self.connection.deliver(message, before_data)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.connection.lanes -= 1
        if self.connection.lanes == 0:
            await self.connection.close()


class SmtpConnection:
    """One authenticated connection sending many messages.

    When the relay advertises PIPELINING, MAIL, RCPT and DATA go out in one write and their
    replies are read together, then the body. A lane holds the connection's `turn` from its
    envelope until its body is written (without PIPELINING: until the body's reply), so the
    other lane's envelope goes out right behind that body, before its reply is back.
    """

    def __init__(self, backend: SmtpBackend, relay: Relay, client: aiosmtplib.SMTP) -> None:
        self.backend = backend
        self.relay = relay
        self.timeout = backend.settings.timeout
        self.left = backend.settings.max_per_connection
        self.pipelining = client.supports_extension("pipelining")
        transport = client.transport
        if transport is None:
            raise RelayUnavailable(f"{relay}: connection lost", lasting=False)
        self.wire = ReplyReader(transport)
        self.turn = asyncio.Lock()
        self.lanes = 0
        self.broken = False

    @property
    def usable(self) -> bool:
        return not self.broken and self.wire.open and (self.left is None or self.left > 0)

    async def _command(self, line: bytes) -> tuple[int, str]:
        return await self.wire.command(line, self.timeout)

    async def deliver(self, message: OutgoingMessage, before_data: BeforeData) -> str:
        relay = self.relay
        if self.left is not None:
            if self.left <= 0:  # the other lane took the last message this connection may carry
                raise Spent(f"{relay}: connection used up")
            self.left -= 1
        envelope = [self.backend.sender, b"RCPT TO:<" + message.recipient.encode("ascii") + b">\r\n", b"DATA\r\n"]
        complete = False
        try:
            async with self.turn:
                if self.broken:
                    raise Lost("connection lost")
                if self.pipelining:
                    waiters = self.wire.send(b"".join(envelope), 3)
                    try:
                        await before_data()  # the journal commits while the replies travel
                    except DeliveryError:
                        self._drop()  # a 354 may be waiting: closing is the only safe way out
                        raise
                    mail, rcpt, data = await self.wire.wait(waiters, self.timeout)
                else:
                    mail = rcpt = data = (503, "not sent")
                    mail = await self._command(envelope[0])
                    if mail[0] == 250:
                        rcpt = await self._command(envelope[1])
                        if rcpt[0] in (250, 251):
                            await before_data()
                            data = await self._command(envelope[2])
                if mail[0] != 250 or rcpt[0] not in (250, 251) or data[0] != 354:
                    await self._abandon(mail[0], rcpt[0], data[0])
                    if mail[0] != 250:
                        if mail[0] >= 500:  # refusing the sender refuses everybody: stop the send
                            raise DeliveryError(f"{_reply(relay, *mail)} (sender refused)")
                        raise self._temporary(mail)
                    raise self._failure(rcpt if rcpt[0] not in (250, 251) else data)
                body = self.wire.send(message.wire or wire_form(message.data), 1)
                complete = True
                if not self.pipelining:
                    ((code, text),) = await self.wire.wait(body, self.timeout)
            if self.pipelining:
                ((code, text),) = await self.wire.wait(body, self.timeout)
        except ReplyTimeout:
            self._drop()
            if complete:
                raise Uncertain(f"{relay}: no reply within {self.timeout:g} s after the message was sent") from None
            raise Temporary(f"{relay}: no reply within {self.timeout:g} s", fault=True) from None
        except (Lost, OSError, aiosmtplib.SMTPException) as exc:
            self._drop()
            # Once the final dot is written, a relay may take the message and its 250 still never
            # reach us (RFC 5321, 4.1.1.4 and 6.1): the connection dropped by the relay, by the
            # network, or by the other lane giving up the connection while this reply was on its
            # way. Only "unknown" is honest then; sending again would risk a second copy.
            if complete:
                raise Uncertain(f"{relay}: connection lost after the message was sent, before the reply") from exc
            raise Temporary(f"{relay}: connection lost", fault=True) from exc
        if code != 250:
            raise self._failure((code, text))
        return _reply(relay, code, text)

    async def _abandon(self, *codes: int) -> None:
        """End a transaction that cannot go on: an empty message if the relay said 354 anyway
        (it has no valid recipient, so it refuses it), then RSET; a 421 closes the connection."""
        if 421 in codes:
            self._drop()
            return
        try:
            if codes[-1] == 354:
                await self._command(b".\r\n")
            if (await self._command(b"RSET\r\n"))[0] != 250:
                self._drop()
        except (Lost, ReplyTimeout, OSError):
            self._drop()

    def _failure(self, reply: tuple[int, str]) -> Temporary | Permanent:
        if reply[0] >= 500:
            return Permanent(_reply(self.relay, *reply))
        return self._temporary(reply)

    def _temporary(self, reply: tuple[int, str]) -> Temporary:
        if reply[0] == 421:  # the server is closing this connection
            self._drop()
        return Temporary(_reply(self.relay, *reply), fault=reply[0] in THROTTLE_CODES)

    def _drop(self) -> None:
        self.broken = True
        self.wire.close()

    async def close(self) -> None:
        if self.broken or not self.wire.open:
            self.wire.close()
            return
        with contextlib.suppress(Lost, ReplyTimeout, OSError):
            async with self.turn:
                await self._command(b"QUIT\r\n")
        self.wire.close()
