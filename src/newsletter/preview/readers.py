"""The readers the preview can personalise for: a generic reader and the people a send mails.

That is the list of record, as for `send` (asked read-only on every request, so an import or an
unsubscribe shows at once), or the CSV while the list has never been filled (the file a first
send would import, as a dry run reads it), or the CSV given with `--subscribers`, as for `send
--subscribers`. A CSV is read again when the file changes; a list that cannot be read leaves the
generic reader and a note for the page, so a half-saved CSV never stops the preview.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.csvfile import load_audience
from newsletter.audience.people import Subscriber
from newsletter.audience.recipients import ListReaders, list_readers
from newsletter.content.editions import Edition
from newsletter.errors import NewsletterError
from newsletter.store import Location

GENERIC = Subscriber(email="reader@example.org")
PICKER_MAX = 500  # a <select> of a hundred thousand names helps nobody; any address still works by URL


@dataclass(frozen=True)
class Choice:
    email: str
    label: str


class Readers:
    """Subscribers by address: from the list of record in `database` once it has been filled,
    else loaded from `path` (or only the generic reader when both are None)."""

    def __init__(self, path: Path | None, preferred: str | None = None, database: Location | None = None) -> None:
        self.path = path
        self.preferred = preferred
        self.database = database
        self._csv_note = ""
        self._list_note = ""
        self._from_database = False  # what the last answer came from, for `note`
        self._csv_read = False
        self._by_email: dict[str, Subscriber] = {}
        self._order: list[Subscriber] = []
        self._editions: list[tuple[Subscriber, str]] = []  # a generic reader per ward edition
        self._lock = threading.Lock()
        self.reload()

    @property
    def note(self) -> str:
        """Why the picker holds fewer people than it should (a list that cannot be read)."""
        return self._list_note if self._from_database else self._csv_note

    def _from_list(self, email: str | None = None) -> ListReaders | None:
        """The list of record's readers (nobody, with a note, when it cannot be read), or None
        while the CSV stands in for it."""
        if self.database is None:
            return None
        try:
            found = list_readers(self.database, PICKER_MAX, email)
            note = ""
        except NewsletterError as exc:
            found, note = ListReaders([], 0), f"subscribers not loaded: {exc}"
        self._from_database, self._list_note = found is not None, note
        return found

    @property
    def reads_list(self) -> bool:
        """Whether the readers come from the list of record now (not from the CSV)."""
        return self._from_list() is not None

    def reload(self) -> None:
        """Read the subscriber file again; on failure keep the generic reader and say why.
        While the list of record stands the file is not read (it may be 100,000 rows)."""
        by_email: dict[str, Subscriber] = {}
        order: list[Subscriber] = []
        note = ""
        reads_list = self.reads_list
        if self.path is not None and not reads_list:
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
            self._by_email, self._order, self._csv_note, self._csv_read = by_email, order, note, not reads_list

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
        listed = self._from_list(wanted)
        if listed is not None:
            if listed.subscribers:
                return listed.subscribers[0]
            return Subscriber(email=self.preferred) if self.preferred and wanted == self.preferred.lower() else GENERIC
        self._read_csv()
        with self._lock:
            return self._by_email.get(wanted, GENERIC)

    def _read_csv(self) -> None:
        """The CSV stands in again (the database was removed): read it if it was skipped."""
        if not self._csv_read:
            self.reload()

    def _listed(self) -> tuple[list[Subscriber], int] | None:
        """The picker's people from the list of record, `--subscriber` first when it is not on it."""
        listed = self._from_list()
        if listed is None:
            return None
        people, total = list(listed.subscribers), listed.total
        if self.preferred:
            own = self._from_list(self.preferred)
            if own is not None and not own.subscribers:
                people, total = [Subscriber(email=self.preferred), *people], total + 1
        return people, total

    def choices(self) -> tuple[list[Choice], int]:
        """Picker entries (generic reader first) and how many subscribers there are in all."""
        listed = self._listed()
        if listed is None:
            self._read_csv()
        with self._lock:
            shown, total = listed if listed is not None else (self._order[:PICKER_MAX], len(self._order))
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
