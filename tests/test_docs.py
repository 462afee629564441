"""Every command has help that ends with an example, and is documented in the README."""

from __future__ import annotations

import click
import pytest

from newsletter.cli import cli
from tests.conftest import REPO


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(commands(command, full + " "))
    return found


ALL = commands(cli)


@pytest.mark.parametrize(("name", "command"), ALL, ids=[name for name, _ in ALL])
def test_command_has_help_ending_with_an_example(name: str, command: click.Command) -> None:
    help_text = (command.help or "").strip()
    assert help_text, f"{name} has no help"
    last_lines = help_text.splitlines()[-2:]
    assert last_lines[0].strip() == "Example:", f"{name}: help must end with an example"
    assert last_lines[1].strip().startswith("newsletter "), f"{name}: the example must be a newsletter command"


@pytest.mark.parametrize(("name", "command"), ALL, ids=[name for name, _ in ALL])
def test_command_is_in_the_readme(name: str, command: click.Command) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"newsletter {name}" in readme, f"`newsletter {name}` is not documented in README.md"


def test_every_setting_is_documented() -> None:
    from newsletter.settings import DEFAULTS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in DEFAULTS:
        assert name in readme, f"{name} is not in README.md"
        assert name in example, f"{name} is not in .env.example"
