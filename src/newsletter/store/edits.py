"""Staff edits of one person on the list: only the fields given change, and the event says
who changed what from what.

`newsletter subscribers add` used to overwrite an existing person with whatever it was given
(an empty ward, no tags); it now refuses, and an edit here changes a field only when asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.errors import InputError
from newsletter.store import consent
from newsletter.store.connection import Connection, Location, shown
from newsletter.store.consent import Evidence
from newsletter.store.database import exists, now, open_store, transaction
from newsletter.store.subscribers import SubscriberRecord, get, join_tags


@dataclass(frozen=True, slots=True)
class Edit:
    """What a staff member asked to change: None (and no tags) leaves a field as it is, so an
    edit can never blank a field it was not told about."""

    first_name: str | None = None
    last_name: str | None = None
    ward: str | None = None
    tag: tuple[str, ...] = ()
    untag: tuple[str, ...] = ()

    def asks_nothing(self) -> bool:
        return self.first_name is None and self.last_name is None and self.ward is None and not self.tag + self.untag

    def check(self) -> None:
        """A tag is one word of the `;`-joined list, and one change cannot both add and drop it."""
        for tag in (*self.tag, *self.untag):
            if ";" in tag:
                raise InputError(f"tag {tag!r}: a tag cannot contain ';' (give each tag on its own)")
        both = sorted({t.strip().lower() for t in self.tag} & {t.strip().lower() for t in self.untag})
        if both:
            raise InputError(f"tag {both[0]!r}: both added and removed in one edit; give it once")


def _fields(record: SubscriberRecord) -> dict[str, str]:
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "ward": record.ward,
        "tags": ";".join(record.tags),
    }


def database_file(db: Connection) -> str:
    """The file behind a connection, for messages that must name it."""
    return db.where


Logger = Callable[[Connection, str, dict[str, tuple[str, str]]], None]  # the audit entry of an edit


def edit(
    db: Connection, email: str, change: Edit, actor: str, logged: Logger | None = None
) -> dict[str, tuple[str, str]]:
    """Change only the fields `change` names and return {field: (old, new)} for those that
    differ; the same in one "edited" event (source "staff", `actor` the staff member), so the
    log can say who changed what from what. Nothing that does not differ is written. An address
    not on the list is an InputError; status and consent are never touched here."""
    key = email.strip().lower()
    change.check()
    with transaction(db):
        old = get(db, key)
        if old is None:
            raise InputError(f"{key}: not on the list in {database_file(db)}; nothing changed")
        before = _fields(old)
        dropped = {t.strip().lower() for t in change.untag}
        after = {
            "first_name": old.first_name if change.first_name is None else change.first_name,
            "last_name": old.last_name if change.last_name is None else change.last_name,
            "ward": old.ward if change.ward is None else change.ward,
            "tags": join_tags([*(t for t in old.tags if t not in dropped), *change.tag]),
        }
        changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
        if changed:
            db.execute(
                "UPDATE subscribers SET first_name = ?, last_name = ?, ward = ?, tags = ?, updated_at = ? "
                "WHERE email = ?",
                (after["first_name"], after["last_name"], after["ward"], after["tags"], now(), key),
            )
            consent.record(db, key, "edited", Evidence("staff", describe(changed), actor=actor))
            if logged is not None:
                logged(db, key, changed)
    return changed


def edit_in(
    path: Location, email: str, change: Edit, actor: str, logged: Logger | None = None
) -> dict[str, tuple[str, str]]:
    """`edit` in the database at `path`; a database that does not exist yet is not created
    (nobody is on a list that was never made)."""
    if not exists(path):
        raise InputError(f"{email.strip().lower()}: not on the list ({shown(path)} does not exist); nothing changed")
    with open_store(path) as store:
        return edit(store.db, email, change, actor, logged)


def describe(changed: dict[str, tuple[str, str]]) -> str:
    """`ward: "Manor" -> "Heatons North"; tags: "" -> "events"`: JSON strings, so a quote or a
    semicolon in a value cannot be mistaken for the separator."""
    return "; ".join(
        f"{name}: {json.dumps(old, ensure_ascii=False)} -> {json.dumps(new, ensure_ascii=False)}"
        for name, (old, new) in changed.items()
    )
