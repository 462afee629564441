"""The project home: the folder that holds `issues/`, found the same way by every command.

Found from `--project DIR` (or `NEWSLETTER_PROJECT`), else from the issue path a command was
given, else by walking up from the current folder like git does. `.env` is read from the
root (the environment still wins) and every relative path in the settings resolves against
the root, so a send started from another folder sees the same journal and the same list.
Where none is found the command is refused (`NoProject`) before it writes anything: a
database created in whatever folder staff happened to be in would be a second, empty list.
`newsletter init DIR` (publish/newproject.py) starts a project.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError
from newsletter.gates.address import clean_name
from newsletter.settings import Settings, database_location, load_settings, read_environment

DATABASE = Path(".newsletter") / "newsletter.sqlite3"
RELEASE_JOURNAL = Path(".newsletter") / "journal.sqlite3"  # what the release before the database used
DATABASE_SETTINGS = ("NEWSLETTER_DATABASE", "NEWSLETTER_JOURNAL")  # the second is the older name
STAFF_SETTING = "NEWSLETTER_STAFF"  # a setting like the others (environment or .env): see `staff_member`
SETTINGS = (*DATABASE_SETTINGS, "NEWSLETTER_SUBSCRIBERS", "NEWSLETTER_PROJECT", STAFF_SETTING)  # read here


@dataclass(frozen=True)
class Project:
    """A project root (absolute) and its settings environment (`.env` under os.environ)."""

    root: Path
    env: Mapping[str, str] = dataclasses.field(repr=False)

    def resolve(self, path: str | Path) -> Path:
        """A setting's path: `~` expanded, relative paths against the project root."""
        expanded = Path(path).expanduser()
        return expanded if expanded.is_absolute() else self.root / expanded

    def setting_path(self, name: str) -> Path | None:
        value = self.env.get(name, "").strip()
        return self.resolve(value) if value else None

    @property
    def database_path(self) -> Path | str:
        """NEWSLETTER_DATABASE (or NEWSLETTER_JOURNAL): a postgresql:// URL as it is, or a file
        path; else `.newsletter/newsletter.sqlite3`. A project that only has the older
        `.newsletter/journal.sqlite3` keeps using (and upgrades) it."""
        for name in DATABASE_SETTINGS:
            value = self.env.get(name, "").strip()
            if value and isinstance(located := database_location(value, name), str):
                return located
            if (given := self.setting_path(name)) is not None:
                return given
        new, old = self.root / DATABASE, self.root / RELEASE_JOURNAL
        return old if old.exists() and not new.exists() else new

    @property
    def dotenv_path(self) -> Path:
        return self.root / ".env"

    def subscriber_list(self) -> tuple[Path, str | None]:
        """The CSV that fills an empty list: NEWSLETTER_SUBSCRIBERS, subscribers.csv, or the
        shipped example list (with a note saying so)."""
        configured = self.setting_path("NEWSLETTER_SUBSCRIBERS")
        if configured is not None:
            return configured, None
        if (self.root / "subscribers.csv").exists():
            return self.root / "subscribers.csv", None
        example = self.root / "subscribers.example.csv"
        return example, f"using the example list {example} (pass --subscribers or create subscribers.csv)"

    def staff_member(self) -> str:
        """Who made a staff change, for the consent log: NEWSLETTER_STAFF when set (an office
        whose staff share one computer account), else the OS user; the text says which, since
        an account name is not always a person's."""
        name, named = staff_identity(self.env)
        return f"{name} ({STAFF_SETTING})" if named else f"{name} (OS user)"

    def settings(self) -> Settings:
        """The publication settings, with the database path resolved against the root."""
        return dataclasses.replace(load_settings(self.env), journal_path=self.database_path)


def staff_identity(env: Mapping[str, str]) -> tuple[str, bool]:
    """The staff member's name and whether NEWSLETTER_STAFF gave it (else it is the OS user's,
    or "unknown" in a bare container with no login name)."""
    named = clean_name(env.get(STAFF_SETTING, ""))
    if named:
        return named, True
    try:
        user = clean_name(getpass.getuser())
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        user = ""
    return user or "unknown", False


def holds_project(folder: Path) -> bool:
    """A project is a folder with `issues/` in it (see DESIGN.md, "One project home")."""
    return (folder / "issues").is_dir()


def _walk_up(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if holds_project(folder):
            return folder
    return None


HOW_TO_PICK = "pick one with --project DIR or NEWSLETTER_PROJECT=DIR, or start one with `newsletter init DIR`"


class NoProject(InputError):
    """A command that needs a project was run where there is none: refused before anything is
    written, so a stray `.newsletter/` (a second, empty list of record) never appears."""


def _explicit_root(explicit: Path | None) -> Path | None:
    given, origin = (explicit, "--project") if explicit is not None else (None, "")
    if given is None and os.environ.get("NEWSLETTER_PROJECT", "").strip():
        given, origin = Path(os.environ["NEWSLETTER_PROJECT"].strip()), "NEWSLETTER_PROJECT"
    if given is None:
        return None
    root = given.expanduser().resolve()
    if not root.is_dir():
        raise NoProject(f"{origin} {given}: no such folder; `newsletter init {given}` starts a project there")
    if not holds_project(root):
        raise NoProject(
            f"{origin} {given}: not a newsletter project (no issues/ folder); "
            f"`newsletter init {given}` starts one there"
        )
    return root


def find_root(issue_path: Path | None = None, explicit: Path | None = None) -> Path:
    """The project root: explicit, else beside the issue's `issues/` (the issue's own folder when
    it has none), else walking up from the current folder; `NoProject` when none is found."""
    root = _explicit_root(explicit)
    if root is not None:
        return root
    if issue_path is not None and issue_path.exists():
        folder = issue_path.resolve().parent
        return _walk_up(folder.parent if folder.name == "issues" else folder) or folder
    cwd = Path.cwd()
    found = _walk_up(cwd)
    if found is None:
        raise NoProject(f"{cwd}: not in a newsletter project (no issues/ folder here or above); {HOW_TO_PICK}")
    return found


def find_project(issue_path: Path | None = None, explicit: Path | None = None) -> Project:
    """Find the root and read its `.env` (under the process environment)."""
    root = find_root(issue_path, explicit)
    return Project(root, read_environment(root / ".env"))
