"""The readers the preview can personalise for: a generic reader and the subscriber file.

The list is read again when the file changes; a list that cannot be read leaves the generic
reader and a note for the page, so a half-saved CSV never stops the preview.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.csvfile import load_audience
from newsletter.audience.people import Subscriber
from newsletter.content.editions import Edition
from newsletter.errors import NewsletterError

GENERIC = Subscriber(email="reader@example.org")
PICKER_MAX = 500  # a <select> of a hundred thousand names helps nobody; any address still works by URL


@dataclass(frozen=True)
class Choice:
    email: str
    label: str


class Readers:
    """Subscribers by address, loaded from `path` (or only the generic reader when None)."""

    def __init__(self, path: Path | None, preferred: str | None = None) -> None:
        self.path = path
        self.preferred = preferred
        self.note = ""
        self._by_email: dict[str, Subscriber] = {}
        self._order: list[Subscriber] = []
        self._editions: list[tuple[Subscriber, str]] = []  # a generic reader per ward edition
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Read the subscriber file again; on failure keep the generic reader and say why."""
        by_email: dict[str, Subscriber] = {}
        order: list[Subscriber] = []
        note = ""
        if self.path is not None:
            try:
                audience = load_audience(self.path)
            except NewsletterError as exc:
                note = f"subscribers not loaded: {exc}"
            else:
                order = list(audience.subscribers)
                by_email = {s.email.lower(): s for s in order}
        if self.preferred and self.preferred.lower() not in by_email:
            extra = Subscriber(email=self.preferred)
            order.insert(0, extra)
            by_email[extra.email.lower()] = extra
        with self._lock:
            self._by_email, self._order, self.note = by_email, order, note

    def show_editions(self, editions: Sequence[Edition]) -> None:
        """One generic reader per ward edition, so the picker shows every edition of the issue."""
        readers = [
            (Subscriber(email=f"reader+{e.key}@example.org", ward=e.wards[0]), f"Generic reader, edition for {e.label}")
            for e in editions
            if e.key
        ]
        with self._lock:
            self._editions = readers

    @property
    def default(self) -> Subscriber:
        """`--subscriber` when given, else the generic reader."""
        return self.find(self.preferred) if self.preferred else GENERIC

    def find(self, address: str | None) -> Subscriber:
        """The subscriber with this address; the default reader for none, generic for unknown."""
        if not address:
            return self.default
        wanted = address.strip().lower()
        with self._lock:
            for reader, _label in self._editions:
                if reader.email == wanted:
                    return reader
            return self._by_email.get(wanted, GENERIC)

    def choices(self) -> tuple[list[Choice], int]:
        """Picker entries (generic reader first) and how many subscribers there are in all."""
        with self._lock:
            shown, total = self._order[:PICKER_MAX], len(self._order)
            editions = list(self._editions)
        entries = [Choice(GENERIC.email, "Generic reader (no name)" + (", edition for everyone" if editions else ""))]
        entries += [Choice(reader.email, label) for reader, label in editions]
        for subscriber in shown:
            name = subscriber.name
            label = f"{name} <{subscriber.email}>" if name else subscriber.email
            if subscriber.ward:
                label += f" · {subscriber.ward}"
            entries.append(Choice(subscriber.email, label))
        return entries, total
