"""The SMTP backend: persistent aiosmtplib connections to one or several relays.

aiosmtplib opens the session (TLS, EHLO, STARTTLS, AUTH). Each message then goes through the
connection's protocol directly: MAIL, RCPT, DATA and the body, which the message factory
already made with CRLF line ends, dot-stuffed here with one `bytes.replace`. That skips
aiosmtplib's per-message regular expressions (39% of its ~550 us per message, DESIGN.md) and
tells us exactly how far a transaction got: a relay that times out after the final dot may
still take the message, so that recipient is left unknown instead of being sent twice.
"""

from __future__ import annotations

import socket
import ssl

import aiosmtplib
from aiosmtplib import SMTPResponse

from newsletter.delivery.base import BeforeData, Permanent, RelayUnavailable, Temporary, Uncertain
from newsletter.delivery.relays import Relay, SmtpSettings
from newsletter.errors import DeliveryError
from newsletter.message import OutgoingMessage

# Replies that mean "slow down" rather than "this message has a problem" (RFC 5321, 4.2.3).
THROTTLE_CODES = frozenset({421, 450, 451, 454})
_LOST = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError, OSError)


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
    """Opens sessions on the relays in turn; each session is one persistent connection."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings, sender: str) -> None:
        self.settings = settings
        self.sender = f"FROM:<{sender}>".encode("ascii")
        self.rotation = RelayRotation(settings.relays)
        self.connections = settings.connections
        self._tls = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)

    def describe(self) -> str:
        return self.settings.describe()

    async def open(self) -> SmtpSession:
        relay = self.rotation.pick()
        client = aiosmtplib.SMTP(
            hostname=relay.host, port=relay.port, timeout=self.settings.timeout,
            use_tls=relay.security == "tls", start_tls=relay.security == "starttls",
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
        return SmtpSession(self, relay, client)


def _connect_problem(relay: Relay, exc: BaseException) -> RelayUnavailable | None:
    """Name what went wrong while opening a session, in one line without the password."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return RelayUnavailable(f"{_reply(relay, exc.code, exc.message)} (login as the SMTP user refused)",
                                lasting=True)
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
    """One authenticated connection sending many messages, one transaction at a time."""

    def __init__(self, backend: SmtpBackend, relay: Relay, client: aiosmtplib.SMTP) -> None:
        self.backend = backend
        self.relay = relay
        self.client = client
        self.timeout = backend.settings.timeout
        self.left = backend.settings.max_per_connection
        self.broken = False

    @property
    def usable(self) -> bool:
        return not self.broken and self.client.is_connected and (self.left is None or self.left > 0)

    async def _command(self, *args: bytes) -> SMTPResponse:
        protocol = self.client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("connection lost")
        return await protocol.execute_command(*args, timeout=self.timeout)

    async def deliver(self, message: OutgoingMessage, before_data: BeforeData) -> str:
        if self.left is not None:
            self.left -= 1
        relay = self.relay
        body = message.data
        if b"\n." in body:  # a search is cheaper than a replace that copies 50 KB for nothing
            body = body.replace(b"\r\n.", b"\r\n..")
        if body.startswith(b"."):
            body = b"." + body
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        complete = False
        try:
            reply = await self._command(b"MAIL", self.backend.sender)
            if reply.code != 250:
                await self._reset()
                if reply.code >= 500:
                    # Refusing the sender refuses everybody: stop the send.
                    raise DeliveryError(f"{_reply(relay, reply.code, reply.message)} (sender refused)")
                raise self._temporary(reply)
            reply = await self._command(b"RCPT", f"TO:<{message.recipient}>".encode("ascii"))
            if reply.code not in (250, 251):
                await self._reset()
                raise self._failure(reply)
            await before_data()
            reply = await self._command(b"DATA")
            if reply.code != 354:
                await self._reset()
                raise self._failure(reply)
            protocol = self.client.protocol
            if protocol is None:
                raise aiosmtplib.SMTPServerDisconnected("connection lost")
            protocol.write(body + b".\r\n")
            complete = True
            reply = await protocol.read_response(timeout=self.timeout)
        except _LOST as exc:
            self._drop()
            # A dropped connection means the relay never said 250, so it has not taken the message
            # (RFC 5321, 4.1.1.4); a relay that is merely slow past our timeout after the final
            # dot may still take it, so that recipient is left unknown rather than sent twice.
            if isinstance(exc, aiosmtplib.SMTPTimeoutError):
                if complete:
                    raise Uncertain(f"{relay}: no reply within {self.timeout:g} s after the message was sent") from None
                raise Temporary(f"{relay}: no reply within {self.timeout:g} s") from None
            raise Temporary(f"{relay}: connection lost") from None
        if reply.code != 250:
            raise self._failure(reply)
        return _reply(relay, reply.code, reply.message)

    def _failure(self, reply: SMTPResponse) -> Temporary | Permanent:
        if reply.code >= 500:
            return Permanent(_reply(self.relay, reply.code, reply.message))
        return self._temporary(reply)

    def _temporary(self, reply: SMTPResponse) -> Temporary:
        if reply.code == 421:  # the server is closing this connection
            self._drop()
        return Temporary(_reply(self.relay, reply.code, reply.message), throttle=reply.code in THROTTLE_CODES)

    async def _reset(self) -> None:
        try:
            if (await self._command(b"RSET")).code != 250:
                self._drop()
        except _LOST:
            self._drop()

    def _drop(self) -> None:
        self.broken = True
        self.client.close()

    async def close(self) -> None:
        if self.broken or not self.client.is_connected:
            self.client.close()
            return
        try:
            await self.client.quit(timeout=min(self.timeout, 5.0))
        except (aiosmtplib.SMTPException, OSError):
            self.client.close()
