"""One definition of the control characters no one-line value may hold (`gates.text.ASCII_CONTROL`:
C0 and DEL), used by the settings, the web settings, a card's summary and the issue's one-line
fields alike; names keep the header gate's wider set, because they become display names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.errors import ConfigError
from newsletter.gates.address import clean_name
from newsletter.gates.headers import CONTROL
from newsletter.publish.summary import one_line
from newsletter.settings import load_settings
from newsletter.web.config import load_web_settings
from tests.conftest import Run


def is_control(character: str) -> bool:
    return ord(character) < 0x20 or ord(character) == 0x7F


def refused(load: object) -> bool:
    try:
        load()  # type: ignore[operator]
    except ConfigError as exc:
        assert "control character" in str(exc)
        return True
    return False


@given(st.characters())
def test_every_one_line_value_refuses_or_drops_the_same_characters(character: str) -> None:
    value = f"office-2026{character}spring-edition"
    assert refused(lambda: load_settings({"UNSUBSCRIBE_SECRET": value})) is is_control(character)
    web = load_settings({"NEWSLETTER_CONSENT_VERSION": value})
    assert refused(lambda: load_web_settings(web)) is is_control(character)
    assert (character in one_line(value)) is not (is_control(character) or character.isspace())


@given(st.characters())
def test_names_drop_the_header_gates_wider_set(character: str) -> None:
    name = clean_name(f"Zo{character}e")
    assert (character in name) is not (CONTROL.match(character) is not None or character.isspace())


@pytest.mark.parametrize("character", ["\x7f", "\x1b", "\t"])
def test_an_article_summary_with_a_control_character_is_one_line_and_exit_2(
    project: Path, run_cli: Run, character: str
) -> None:
    path = project / "issues" / "spring-2018.yaml"
    text = path.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line.startswith("  - "))
    slug = first.removeprefix("  - ").removeprefix("slug: ").strip()
    escaped = {"\x7f": "\\x7F", "\x1b": "\\e", "\t": "\\t"}[character]
    path.write_text(
        text.replace(first, f'  - slug: {slug}\n    summary: "Ward surgery{escaped}times"', 1), encoding="utf-8"
    )
    result = run_cli("check", "spring-2018")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "'summary' must be a single line of text" in result.stderr
