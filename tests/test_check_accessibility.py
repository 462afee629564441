"""`newsletter check`: accessibility, dark mode and image findings, each made to fire, and none on
the example issues."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.checks.accessibility import audit, contrast, parse_colour
from newsletter.mail.compose import compose
from newsletter.settings import load_settings
from tests.conftest import REPO, Run

ISSUES = sorted((REPO / "issues").glob("*.yaml"))
GOOD_IMG = '<img src="https://www.example.org/a.jpg" alt="A bench" width="300" height="auto">'


def page(body: str, *, lang: str = ' lang="en"', head: str = '<meta name="color-scheme" content="light dark">') -> str:
    return f'<!doctype html><html{lang}><head>{head}</head><body style="background-color:#ffffff">{body}</body></html>'


def codes(html: str) -> list[str]:
    return [f.code for f in audit(html)]


def messages(html: str) -> str:
    return "\n".join(f.message for f in audit(html))


def test_a_clean_page_has_no_findings() -> None:
    html = page(f'<div style="color:#1b1f23;font-size:16px"><h1>Title</h1><h2>Part</h2>{GOOD_IMG}'
                '<p><a href="https://www.example.org/news/a">The inquiry report</a></p></div>')  # fmt: skip
    assert audit(html) == []


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_example_issues_have_no_accessibility_findings(path: Path) -> None:
    composed = compose(path, load_settings({}))
    assert audit(composed.rendered.personalise(composed.web_values())[0]) == []


def test_alt_text() -> None:
    assert "image-alt" in codes(page('<img src="https://x.example.org/a.jpg" width="10" height="10">'))
    linked = page(
        '<a href="https://x.example.org/"><img src="https://x.example.org/a.jpg" alt="" width="1" height="1"></a>'
    )
    assert [f.level for f in audit(linked) if f.code == "image-alt"] == ["error"]
    decoration = page('<img src="https://x.example.org/line.png" alt="" width="600" height="2">')
    assert [f.level for f in audit(decoration) if f.code == "image-alt"] == ["warning"]


@pytest.mark.parametrize("text", ["Click here", "Read more", "read more »", "here", "https://www.example.org/x",
                                  "www.example.org"])  # fmt: skip
def test_vague_link_text(text: str) -> None:
    found = audit(page(f'<p style="font-size:16px"><a href="https://www.example.org/x">{text}</a></p>'))
    assert [f.code for f in found] == ["link-text"], found


def test_a_link_without_text() -> None:
    assert "link-text" in codes(page('<a href="https://www.example.org/x"></a>'))


def test_headings_out_of_order() -> None:
    found = messages(page("<h1>One</h1><h2>Two</h2><h4>Four</h4><h2>Back</h2><h3>Fine</h3>"))
    assert "h4 'Four' follows h2" in found and found.count("follows") == 1


def test_lang() -> None:
    assert "lang" in codes(page("<p>x</p>", lang=""))
    assert "lang" in codes(page("<p>x</p>", lang=' lang=" "'))


def test_contrast_of_inlined_pairs() -> None:
    low = page('<div style="background:#eef0ef"><p style="color:#9aa39e;font-size:16px">Grey on grey</p></div>')
    found = [f for f in audit(low) if f.code == "contrast"]
    assert len(found) == 1 and "#9aa39e on #eef0ef" in found[0].message and found[0].level == "error"
    # The background comes from the nearest ancestor that paints one, bgcolor included.
    cell = '<table><tr><td bgcolor="#00573f"><p style="color:{};font-size:16px">Text on green</p></td></tr></table>'
    assert "contrast" in codes(page(cell.format("#0a3d2c")))
    assert "contrast" not in codes(page(cell.format("#ffffff")))
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert parse_colour("#abc") == (170, 187, 204) and parse_colour("rgba(0,0,0,0)") == "transparent"


def test_small_text() -> None:
    found = audit(page('<p style="font-size:12px;color:#000000">Small print</p>'))
    assert [f.code for f in found] == ["text-size"]
    hidden = page('<div style="display:none;font-size:1px">preheader</div><p style="font-size:14px">ok</p>')
    assert audit(hidden) == []


def test_dark_mode_black_text_on_transparent() -> None:
    html = ('<!doctype html><html lang="en"><head><meta name="color-scheme" content="light dark"></head>'
            '<body><p style="color:#000000;font-size:16px">Black on nothing</p></body></html>')  # fmt: skip
    found = [f for f in audit(html) if f.code == "dark-mode"]
    assert len(found) == 1 and "#000000" in found[0].message
    painted = html.replace("<body>", '<body style="background-color:#ffffff">')
    assert [f for f in audit(painted) if f.code == "dark-mode"] == []
    assert "dark-mode" in codes(page("<p>x</p>", head=""))


def test_images_https_and_size() -> None:
    found = messages(page('<img src="http://www.example.org/a.jpg" alt="A" width="100%">'))
    assert "not loaded over https" in found
    assert "width '100%'" in found and "no height attribute" in found


def test_check_cli_reports_them(project: Path, run_cli: Run) -> None:
    article = project / "articles" / "sent-away-children-inquiry.md"
    article.write_text(
        article.read_text(encoding="utf-8")
        + "\n#### A jump\n\nTo give evidence [click here](https://www.example.org/evidence).\n\n"
        + "![](http://www.example.org/chart.png)\n",
        encoding="utf-8",
    )
    result = run_cli("check", "spring-2018")
    assert result.returncode == 0, result.stdout + result.stderr  # warnings only
    out = result.stdout
    assert "link text 'click here' does not say where it goes" in out
    assert "heading h4 'A jump' follows h2" in out
    assert "image 'http://www.example.org/chart.png' has empty alt" in out or "link's only content" in out
    assert "not loaded over https" in out and "no width" in out and "no height attribute" in out
    assert "0 error(s), 6 warning(s)" in out
