"""Who is at this desk: the name recorded with every action in the audit log.

NEWSLETTER_STAFF names the person (a per-machine setting, in `.env` or the environment); without
it the OS user's name is used and `source` says so, since a shared account is not a person.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.project import staff_identity
from newsletter.settings import Settings

__all__ = ["OS_USER", "Staff", "current", "of"]


@dataclass(frozen=True)
class Staff:
    """A person as the log records them: `source` is "NEWSLETTER_STAFF" or "the OS user"."""

    name: str
    source: str
    host: str

    @property
    def named(self) -> bool:
        """True when NEWSLETTER_STAFF said who this is (not only the computer account)."""
        return self.source != OS_USER

    def __str__(self) -> str:
        return f"{self.name} ({self.source})"


OS_USER = "the OS user"


def current(settings: Settings) -> Staff:
    """The staff member of this command, from the settings' environment."""
    return of(settings.env)


def of(env: Mapping[str, str]) -> Staff:
    """`current` from the environment alone: an erasure must not wait for a valid NEWSLETTER_FROM."""
    name, named = staff_identity(env)
    try:
        host = socket.gethostname() or "unknown"
    except OSError:
        host = "unknown"
    return Staff(name=name, source="NEWSLETTER_STAFF" if named else OS_USER, host=host)
