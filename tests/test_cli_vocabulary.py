"""One vocabulary across every command (issue 12), held here: the same thing has one name and
one placeholder everywhere, click's generic placeholders never show, bare `newsletter` is help
and success, and the command list gives each command's whole first sentence."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path as PathLike

import click
import pytest

from newsletter.cli import cli, main
from newsletter.cli.vocabulary import ALLOWED, Renamed
from newsletter.store import exists
from newsletter.store.connection import shown

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


def shown_names(param: click.Parameter) -> list[str]:
    """The names `--help` shows: an option renamed to the vocabulary hides its old ones."""
    return param.current_opts if isinstance(param, Renamed) else list(param.opts)


def test_an_option_has_one_placeholder_in_every_command() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for _where, param, metavar in placeholders():
        if isinstance(param, click.Option) and not isinstance(param.type, click.Choice):
            for name in shown_names(param):
                if name != "--out":  # --out says what it writes: DIR, FILE or CSV (below)
                    seen[name].add(SAME.get(metavar, metavar))
    # --to says where something goes: a test copy to an EMAIL, `db copy` to a DATABASE (issue 19
    # names it `newsletter db copy --to URL`); nothing else.
    assert seen.pop("--to") == {"EMAIL", "DATABASE"}
    assert {name: found for name, found in seen.items() if len(found) > 1} == {}


def test_one_name_for_the_same_thing() -> None:
    options = {
        name
        for _path, command in commands()
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for name in shown_names(param)
    }
    # The project database is --database, anything written is --out, a skipped prompt is --yes.
    assert not options & {"--outbox", "--journal", "--export", "--key", "--force-yes", "--no-confirm"}
    assert {"--database", "--out", "--yes"} <= options
    for _where, param, metavar in placeholders():
        if "--out" in shown_names(param):
            folder = isinstance(param.type, click.Path) and not param.type.file_okay
            assert metavar == "DIR" if folder else metavar in ("FILE", "CSV"), (param.name, metavar)
    for path, command in commands():
        names = {name for param in command.params for name in shown_names(param)}
        if any(isinstance(p, click.Option) and p.name == "journal_path" for p in command.params):
            assert "--database" in names, path


def renamed_options() -> Iterator[tuple[Path, click.Command, Renamed]]:
    for path, command in commands():
        for param in command.params:
            if isinstance(param, Renamed):
                yield path, command, param


def test_every_renamed_option_keeps_its_old_name_working_and_out_of_help(capsys: pytest.CaptureFixture[str]) -> None:
    found = {(" ".join(path), old) for path, _command, param in renamed_options() for old in param.old_names}
    assert {("send", "--journal"), ("status", "--journal"), ("status", "--export")} <= found
    assert {("subscribers export-person", "--export"), ("dkim keygen", "--key")} <= found
    for path, command, param in renamed_options():
        assert main([*path, "--help"]) == 0
        text = capsys.readouterr().out
        arguments = ["x" for p in command.params if isinstance(p, click.Argument)]
        for old in param.old_names:
            assert old not in text, (path, old)
            context = command.make_context(" ".join(path), [*arguments, old, "given.file"])
            new = command.make_context(" ".join(path), [*arguments, param.current_opts[0], "given.file"])
            assert context.params[param.name or ""] == new.params[param.name or ""] != param.default
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


def test_the_new_names_work_end_to_end(
    project: PathLike, database: PathLike | str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--database names a file or a postgresql:// URL (`database`: one of each)."""
    assert main(["send", "spring-2018", "--yes", "--database", str(database)]) == 0
    assert exists(database)
    assert main(["status", "spring-2018", "--database", str(database), "--out", "failures.csv"]) == 0
    assert f"in {shown(database)}" in capsys.readouterr().out
    assert (project / "failures.csv").read_text(encoding="utf-8").startswith('"email",')
    assert not (project / ".newsletter").exists()
    assert main(["subscribers", "export-person", "margaret.hughes@example.org", "--out", "margaret.json"]) == 0
    assert (project / "margaret.json").is_file()
