"""One vocabulary across every command (issue 12), held here: the same thing has one name and
one placeholder everywhere, click's generic placeholders never show, bare `newsletter` is help
and success, and the command list gives each command's whole first sentence."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import click
import pytest

from newsletter.cli import cli, main
from newsletter.cli.vocabulary import ALLOWED

GENERIC = ("INTEGER RANGE", "FLOAT RANGE", "INTEGER", "FLOAT", "DIRECTORY", "PATH", "ADDR", "TEXT RANGE", "[%Y")


Path = tuple[str, ...]


def commands(command: click.Command = cli, path: Path = ()) -> Iterator[tuple[Path, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


def placeholders() -> Iterator[tuple[str, click.Parameter, str]]:
    for path, command in commands():
        context = click.Context(command, info_name=" ".join(("newsletter", *path)))
        for param in command.params:
            if isinstance(param, click.Option) and (param.is_flag or param.hidden):
                continue
            yield " ".join(path) or "newsletter", param, param.make_metavar(context)


# CSV is a file too: an option may say CSV in one command and FILE in another, never DIR.
SAME = {"CSV": "FILE"}


def test_every_placeholder_is_from_the_vocabulary() -> None:
    outside = [
        (where, param.name, metavar)
        for where, param, metavar in placeholders()
        if metavar not in ALLOWED and not isinstance(param.type, click.Choice)
    ]  # a choice lists its words
    assert outside == []


def test_an_option_has_one_placeholder_in_every_command() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for _where, param, metavar in placeholders():
        if isinstance(param, click.Option) and not isinstance(param.type, click.Choice):
            for name in param.opts:
                seen[name].add(SAME.get(metavar, metavar))
    assert {name: found for name, found in seen.items() if len(found) > 1} == {}


def test_one_name_for_the_same_thing() -> None:
    options = {
        name
        for _path, command in commands()
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for name in param.opts
    }
    assert "--outbox" not in options and "--out" in options  # every folder written to is --out
    for _where, param, metavar in placeholders():
        if "--out" in param.opts:
            assert metavar == "DIR", param.name
    emails = [
        metavar
        for _where, param, metavar in placeholders()
        if any(word in (param.name or "") for word in ("email", "address", "subscriber_address"))
    ]
    assert emails and set(emails) <= {"EMAIL", "EMAIL..."}


@pytest.mark.parametrize("path", [path for path, _ in commands()], ids=lambda p: " ".join(p) or "newsletter")
def test_no_generic_placeholder_in_any_help(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert not [word for word in GENERIC if word in text.replace("[OPTIONS]", "")], text
    assert "Example" in text


def test_bare_newsletter_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: newsletter") and "Commands:" in out


def test_the_command_list_does_not_cut_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out.split("Commands:", 1)[1]
    assert "..." not in listing
    for name, command in cli.commands.items():
        first_words = " ".join((command.help or "").split()[:4])
        assert name in listing and first_words.split()[0] in listing
