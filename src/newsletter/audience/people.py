"""The records that flow from the audience to the send: a subscriber, and a row left out with why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

INVALID = "invalid address"
DUPLICATE = "duplicate"
NO_CONSENT = "no consent"
UNREADABLE = "unreadable value"
CASEWORK = "casework without newsletter consent"
# What an import refuses unless told to skip it: a value that names nobody or no date for sure,
# and a casework contact with no newsletter consent of its own (audience/csvfile.py).
INVALID_REASONS = frozenset({INVALID, UNREADABLE, CASEWORK})


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One constituent who may receive the newsletter."""

    email: str
    first_name: str = ""
    last_name: str = ""
    ward: str = ""
    tags: tuple[str, ...] = ()
    consented_at: dt.date | None = None
    line: int = 0

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row that will not be sent to, and why."""

    line: int
    email: str
    reason: str
    detail: str
