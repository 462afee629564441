"""One vocabulary across every command (issue 12): the same thing has the same name everywhere.

Placeholders in `--help`: DIR for a folder, FILE for a file (CSV when it must be a CSV,
MAILBOX for an mbox file or Maildir folder), EMAIL for an address, N for a count, SECONDS for a
duration, EDITION for a ward edition, DATE for YYYY-MM-DD, TIME for a date and time
(2026-05-04T18:00). Click's own defaults (`DIRECTORY`, `PATH`, `INTEGER RANGE`, `FLOAT RANGE`,
`[%Y-%m-%d]`) never show. A command's line in the command list is its whole first sentence,
never cut with "...".
`tests/test_cli_vocabulary.py` holds all of this.
"""

from __future__ import annotations

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
    }
)


# Options that name the same thing in several commands, and their one placeholder.
BY_NAME = {
    "--subscribers": "CSV",
    "--export": "CSV",
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
