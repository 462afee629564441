"""The docs cannot drift from the code: every command has help ending with an example and is in
the README's list; the reference pages are what `scripts/reference.py` makes of the code today;
`.env.example` names every setting once, with the defaults the code uses; the README stays short;
and the docs site builds with `mkdocs build --strict` (broken links and anchors fail it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

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


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_in_the_readme(name: str) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`newsletter {name}" in readme, f"`newsletter {name}` is not in the README's list of commands"


def reference() -> ModuleType:
    """scripts/reference.py, the generator of the reference pages, loaded as a module."""
    if "docs_reference" in sys.modules:
        return sys.modules["docs_reference"]
    spec = importlib.util.spec_from_file_location("docs_reference", REPO / "scripts" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_reference"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_reference_pages_are_what_the_code_says() -> None:
    generator = reference()
    stale = [str(path.relative_to(REPO)) for path in generator.stale()]
    assert not stale, (
        f"{', '.join(stale)}: out of date with the code (a command, an option, a setting or an error changed). "
        f"Run `{generator.COMMAND}` and commit docs/reference/."
    )


def test_env_example_shows_every_setting_once_with_the_code_defaults() -> None:
    from newsletter.audience.bounces import DEFAULT_SOFT_LIMIT
    from newsletter.cli.common import KNOWN_SETTINGS
    from newsletter.settings import DEFAULTS
    from newsletter.web.config import WEB_DEFAULTS

    generator = reference()
    groups = generator.read_env_example((REPO / ".env.example").read_text(encoding="utf-8"))
    shown = [name for group in groups for name, _ in group.settings]
    assert not [name for name in shown if shown.count(name) > 1], "a setting is in .env.example twice"
    missing = sorted(KNOWN_SETTINGS - set(shown))
    assert not missing, f'{missing}: not in .env.example (add a `# NAME="default"` line with a comment above it)'
    unknown = sorted(set(shown) - KNOWN_SETTINGS)
    assert not unknown, f"{unknown}: in .env.example but no module's SETTINGS names it"
    assert all(group.comment for group in groups), "every setting in .env.example needs a comment saying what it means"
    values = generator.env_example_settings()
    code = {**DEFAULTS, **WEB_DEFAULTS, "NEWSLETTER_SOFT_BOUNCE_LIMIT": str(DEFAULT_SOFT_LIMIT)}
    wrong = {name: (values[name], default) for name, default in code.items() if values[name] != default}
    assert not wrong, f".env.example shows other defaults than the code (shown, code): {wrong}"


def test_env_example_names_every_setting_a_real_send_refuses_as_an_example() -> None:
    header = (REPO / ".env.example").read_text(encoding="utf-8").split("\n\n", 1)[0]
    refused = reference().refused_examples()
    assert refused, "the defaults are examples: a real send must refuse some of them"
    assert [name for name in sorted(refused) if name not in header] == []


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines: move detail into docs/ (at most 200)"


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """Broken links, anchors, a page missing from the nav or a snippet that is gone fail the build."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
