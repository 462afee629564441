"""The outbox: one `.eml` file per recipient in a folder, the default when no relay is set.

It lets every command work with no server at all, and staff can open any file in a mail
program to see exactly what a constituent will get. It goes through the same send loop as
SMTP, so the journal records outbox sends too (and a re-run resumes the same way).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from newsletter.delivery.base import BeforeData
from newsletter.errors import DeliveryError
from newsletter.fileio import write_atomic
from newsletter.mail.message import OutgoingMessage

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def file_name(address: str) -> str:
    """A file name for an address; unusual characters are replaced and disambiguated by a hash."""
    safe = _UNSAFE.sub("_", address)
    if safe != address or safe.startswith("."):
        safe = f"{safe.lstrip('.')}-{hashlib.sha256(address.encode()).hexdigest()[:8]}"
    return f"{safe}.eml"


class Outbox:
    """Writes each message atomically to `<folder>/<address>.eml`."""

    name = "outbox"
    wire = False
    lanes = 1
    connections = 1

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"the outbox {self.folder}"

    def write(self, message: OutgoingMessage) -> str:
        """Write one message; returns a reply-like note for the journal."""
        path = self.folder / file_name(message.recipient)
        try:
            write_atomic(path, message.data)
        except OSError as exc:
            raise DeliveryError(f"{path}: cannot write to the outbox: {exc.strerror}") from exc
        return f"written {path}"

    async def open(self) -> OutboxSession:
        return OutboxSession(self)


class OutboxSession:
    """The outbox as a send-loop session: a local write is quick, so it runs in the loop."""

    usable = True

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def deliver(self, message: OutgoingMessage, before_data: BeforeData) -> str:
        await before_data()
        return self.outbox.write(message)

    async def close(self) -> None:
        return None
