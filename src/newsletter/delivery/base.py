"""The one small interface every delivery backend offers the send loop, and its outcomes.

A backend opens sessions (an SMTP connection, or a handle on the outbox folder); a session
delivers one message at a time. What went wrong is said by the exception's kind, so the send
loop decides retries without knowing SMTP: `Temporary` (try again later), `Permanent` (this
recipient only), `Uncertain` (the message may have been accepted), `RelayUnavailable` (this
relay cannot be used now), and `DeliveryError` from errors.py (stop the send).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from newsletter.mail.message import OutgoingMessage

BeforeData = Callable[[], Awaitable[None]]


class DeliveryOutcome(Exception):
    """A reply (or its absence) that concerns one message; the text names host:port."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class Temporary(DeliveryOutcome):
    """A 4xx reply, a timeout or a dropped connection before the message was complete.

    `fault` says the trouble is the relay's ("slow down" replies, a dropped connection, a
    timeout) rather than this recipient's (a full mailbox): the pacing listens to faults."""

    def __init__(self, reply: str, *, fault: bool = False) -> None:
        super().__init__(reply)
        self.fault = fault


class Spent(DeliveryOutcome):
    """The session may carry no more messages (its connection's quota is used): try this
    recipient again at once on another session; nothing was sent."""


class Permanent(DeliveryOutcome):
    """A 5xx reply to RCPT or DATA: this recipient will not get the message from this relay."""


class Uncertain(DeliveryOutcome):
    """The whole message went out (the final dot written) but its reply never came: a silent
    relay or a lost connection. The relay may have accepted it, so sending it again could give
    the recipient two copies (RFC 5321, 6.1); the send loop leaves the recipient unknown."""


class RelayUnavailable(DeliveryOutcome):
    """The relay could not be reached or refused the session (connect, TLS, login)."""

    def __init__(self, reply: str, *, lasting: bool) -> None:
        super().__init__(reply)
        self.lasting = lasting  # authentication, TLS or an unknown host: trying again will not help


class Session(Protocol):
    """One open channel to a destination (an SMTP connection, the outbox folder)."""

    @property
    def usable(self) -> bool: ...

    async def deliver(self, message: OutgoingMessage, before_data: BeforeData) -> str:
        """Deliver one message; await `before_data` right before the point of no return.
        Returns the destination's reply."""
        ...

    async def close(self) -> None: ...


class Backend(Protocol):
    name: str
    wire: bool  # whether sessions want `OutgoingMessage.wire` (SMTP's DATA form) built too
    lanes: int  # sessions that share one connection (the send loop runs connections x lanes)

    def describe(self) -> str: ...

    async def open(self) -> Session: ...
