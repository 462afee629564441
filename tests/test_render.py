"""Rendering: golden files, determinism, responsive CSS kept, plain text rules, strict MJML."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from newsletter.content.issue import load_issue
from newsletter.content.render import PLACEHOLDERS, Renderer
from newsletter.mail.compose import compose
from newsletter.settings import load_settings
from tests.conftest import REPO, node_available, require

GOLDEN = REPO / "tests" / "golden"
ISSUES = sorted((REPO / "issues").glob("*.yaml"))


def rendered(name: str = "spring-2018"):  # type: ignore[no-untyped-def]
    return compose(REPO / "issues" / f"{name}.yaml", load_settings({})).rendered


def test_golden_html_and_text() -> None:
    """The example issue renders to exactly the reviewed bytes (UPDATE_GOLDEN=1 rewrites them)."""
    result = rendered()
    files = {GOLDEN / "spring-2018.html": result.html, GOLDEN / "spring-2018.txt": result.text}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        for path, text in files.items():
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs; review and run with UPDATE_GOLDEN=1"


def test_rendering_is_deterministic() -> None:
    first, second = rendered(), rendered()
    assert (first.html, first.text) == (second.html, second.text)


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_html_is_complete_email_html(path: Path) -> None:
    html = compose(path, load_settings({})).rendered.html
    assert html.startswith("<!doctype html>")
    assert "<mj-" not in html
    media = re.search(r"@media[^{]*\{(.*?)\}\s*\}", html, re.S)
    assert media and "!important" in media.group(1), "responsive rules must keep !important"
    assert 'style="' in html, "CSS must be inlined"
    assert len(html.encode()) < 90 * 1024
    for token in PLACEHOLDERS.values():
        assert token in html
    assert "fonts.googleapis" not in html


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_plain_text_rules(path: Path) -> None:
    for edition in compose(path, load_settings({})).editions:
        text = edition.rendered.text
        lines = text.splitlines()
        for index, line in enumerate(lines):
            assert len(line) <= 78 or " " not in line.strip(), f"line too long: {line!r}"
            if line != line.rstrip():  # a format=flowed soft break: one space, then more of the paragraph
                assert line == line.rstrip() + " " and line.strip(), f"stray trailing space: {line!r}"
                assert lines[index + 1].strip(), f"soft break before a blank line: {line!r}"
            assert not line.startswith((">", "From ")), f"not space-stuffed: {line!r}"
        assert not re.search(r"<[a-zA-Z/][^>]*>", text), "no HTML tags in the text part"
        assert not re.search(r"&(#\d+|[a-z]+);", text), "no HTML entities in the text part"
        assert PLACEHOLDERS["unsubscribe_url"] in text
        for article in edition.edition.issue.all_articles:
            assert article.url in text, f"{article.slug}: its link must be written out"
        assert "\n\n\n" not in text


def test_nothing_is_rendered_per_recipient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per recipient only substitution happens: MJML, premailer and Jinja are never called."""
    import jinja2
    import premailer

    from newsletter.audience.people import Subscriber
    from newsletter.content import render

    composed = compose(REPO / "issues" / "spring-2018.yaml", load_settings({}))

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("called per recipient")

    monkeypatch.setattr(render, "mjml2html", forbidden)
    monkeypatch.setattr(premailer.Premailer, "transform", forbidden)
    monkeypatch.setattr(jinja2.Environment, "get_template", forbidden)
    monkeypatch.setattr(jinja2.Template, "render", forbidden)
    for i in range(50):
        assert composed.factory.build(Subscriber(email=f"r{i}@example.org", first_name="R")).data


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_templates_pass_reference_mjml_in_strict_mode(path: Path) -> None:
    require(node_available(), "node")
    require((REPO / "tests" / "mjml" / "node_modules" / "mjml").is_dir(), "the reference mjml (npm ci in tests/mjml)")
    issue = load_issue(path)
    source = Renderer(issue.project.templates_dir).render_mjml(issue, load_settings({}))
    result = subprocess.run(
        ["node", "validate.js"], cwd=REPO / "tests" / "mjml", input=source, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_validator_rejects_a_broken_template() -> None:
    """The validator itself can fail: a misplaced mj-text is an error in strict mode."""
    require(node_available(), "node")
    require((REPO / "tests" / "mjml" / "node_modules" / "mjml").is_dir(), "the reference mjml (npm ci in tests/mjml)")
    source = "<mjml><mj-body><mj-section><mj-text>misplaced</mj-text></mj-section></mj-body></mjml>"
    result = subprocess.run(
        ["node", "validate.js"], cwd=REPO / "tests" / "mjml", input=source, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
