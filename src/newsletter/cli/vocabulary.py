"""One vocabulary across every command (issue 12): the same thing has the same name everywhere.

Placeholders in `--help`: DIR for a folder, FILE for a file (CSV when it must be a CSV,
MAILBOX for an mbox file or Maildir folder), EMAIL for an address, N for a count, SECONDS for a
duration, EDITION for a ward edition, DATE for YYYY-MM-DD, TIME for a date and time
(2026-05-04T18:00), DATABASE for a database (a SQLite file or a postgresql:// URL). Click's own
defaults (`DIRECTORY`, `PATH`, `INTEGER RANGE`, `FLOAT RANGE`, `[%Y-%m-%d]`) never show. A
command's line in the command list is its whole first sentence, never cut with "...".
One name for one thing (issue 18): `--database` for the project database, `--out` for any file
or folder a command writes, `--yes` to skip a prompt. An option renamed for this keeps its
earlier name working but out of `--help` (`Renamed`), so no script breaks.
`tests/test_cli_vocabulary.py` holds all of this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

ALLOWED = frozenset(
    {
        "ISSUE",
        "SLUG",
        "SLUGS",
        "FEED",
        "DIR",
        "FILE",
        "CSV",
        "MAILBOX",
        "EMAIL",
        "EMAIL...",
        "N",
        "PORT",
        "SECONDS",
        "DATE",
        "TIME",
        "HOST",
        "WARD",
        "TAG",
        "TEXT",
        "EDITION",
        "DATABASE",
    }
)


# Options that name the same thing in several commands, and their one placeholder.
BY_NAME = {
    "--subscribers": "CSV",
    "--subscriber": "EMAIL",
    "--to": "EMAIL",
    "--host": "HOST",
    "--port": "PORT",
    "--ward": "WARD",
    "--tag": "TAG",
    "--untag": "TAG",
    "--articles": "SLUGS",
    "--note": "TEXT",
    "--edition": "EDITION",
}


class Renamed(click.Option):
    """An option whose earlier names (`old_names`) still work but are not shown in `--help`."""

    def __init__(self, param_decls: Sequence[str], *, old_names: Sequence[str] = (), **attrs: Any) -> None:
        super().__init__([*param_decls, *old_names], **attrs)
        self.old_names = tuple(old_names)

    @property
    def current_opts(self) -> list[str]:
        return [name for name in self.opts if name not in self.old_names]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        every = self.opts
        self.opts = self.current_opts
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = every


F = TypeVar("F", bound=Callable[..., Any])


def renamed(*param_decls: str, old: Sequence[str], **attrs: Any) -> Callable[[F], F]:
    """`click.option` for an option renamed to one vocabulary, its old names kept as hidden aliases."""
    return click.option(*param_decls, cls=Renamed, old_names=old, **attrs)


def _default_metavar(param: click.Parameter) -> str | None:
    for name in param.opts:
        if name in BY_NAME:
            return BY_NAME[name]
    kind = param.type
    if isinstance(kind, click.Path):
        return "DIR" if not kind.file_okay else "FILE"
    if isinstance(kind, click.types.IntParamType):
        return "N"
    if isinstance(kind, click.types.FloatParamType):
        return "SECONDS"
    if isinstance(kind, click.DateTime):
        return "DATE"
    return None


def first_sentence(text: str) -> str:
    """The first sentence of a docstring, whole (click cuts it at 45 characters with "...")."""
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def apply(command: click.Command) -> None:
    """Set the vocabulary's placeholders and whole short help on a command and its subcommands."""
    for param in command.params:
        if isinstance(param, click.Option) and (param.is_flag or param.count):
            continue
        if param.metavar is None and (metavar := _default_metavar(param)) is not None:
            param.metavar = metavar
    if command.short_help is None and command.help:
        command.short_help = first_sentence(command.help)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            apply(sub)
