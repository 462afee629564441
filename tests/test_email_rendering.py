"""What the review of the example messages asked for: MJML's image sizes kept, dark-mode meta,
a preheader hidden without low-contrast text and followed by filler, one link per destination per
card with text that says where it goes, a numeric `Date` zone, and `format=flowed` text."""

from __future__ import annotations

import email
import email.policy
import html as html_module
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mjml import mjml2html
from newsletter.audience.people import Subscriber
from newsletter.content import flowed
from newsletter.content.issue import load_issue
from newsletter.content.render import Renderer
from newsletter.mail.compose import compose
from newsletter.settings import load_settings
from tests.conftest import REPO

ISSUES = sorted((REPO / "issues").glob("*.yaml"))
VAGUE = {"read more", "click here", "here", "more", "link", "this"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._text.split())))
            self._href = None


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_images_keep_pixel_sizes_and_premailer_adds_no_percentage(path: Path) -> None:
    """Every image's width is whole pixels; percentages appear only where MJML itself wrote them
    (its layout tables, which fill a pixel-wide Outlook cell), never added by premailer."""
    issue = load_issue(path)
    renderer = Renderer(issue.project.templates_dir)
    html = renderer.render(issue, load_settings({})).html
    images = [attrs for tag, attrs in parsed(html).tags if tag == "img"]
    assert images
    for attrs in images:
        assert re.fullmatch(r"\d+", attrs.get("width") or ""), f"image width {attrs.get('width')!r}"
    mjml_only = mjml2html(renderer.render_mjml(issue, load_settings({})), disable_comments=True, fonts={})
    percent = re.compile(r'<(\w+)[^>]*?\swidth="[\d.]+%"')
    assert Counter(m.group(1) for m in percent.finditer(html)) == Counter(
        m.group(1) for m in percent.finditer(mjml_only)
    )
    assert not any(m.group(1) == "img" for m in percent.finditer(html))


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_dark_mode_is_declared(path: Path) -> None:
    html = compose(path, load_settings({})).rendered.html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    dark = re.search(r"@media \(prefers-color-scheme: dark\) \{(.*?)\n\s*\}", html, re.S)
    assert dark and "!important" in dark.group(1)


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_preheader_is_hidden_without_colour_and_followed_by_filler(path: Path) -> None:
    composed = compose(path, load_settings({}))
    html = composed.rendered.html
    match = re.search(r'<div class="nl-preheader" style="([^"]*)">(.*?)</div>', html, re.S)
    assert match, "the preheader is the first thing in the body"
    style, content = match.groups()
    assert "display:none" in style.replace(" ", "") and "color" not in style and "font-size" not in style
    content = html_module.unescape(content)
    assert content.startswith(composed.issue.preheader)
    assert content.count("\u200c") >= 40, "filler keeps inbox previews from running on"
    assert html.index("nl-preheader") < html.index("View in your browser")


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_one_link_per_destination_per_article_and_no_vague_text(path: Path) -> None:
    for edition in compose(path, load_settings({})).editions:
        links = parsed(edition.rendered.html).links
        by_href = Counter(href for href, _ in links)
        for article in edition.edition.issue.all_articles:
            assert by_href[article.url] == 1, f"{article.slug}: {by_href[article.url]} links to {article.url}"
        for href, text in links:
            assert text.lower().strip(" .:") not in VAGUE, f"vague link text {text!r} for {href}"
            assert text and text != href
        assert 'aria-label="Read more' not in edition.rendered.html


def test_date_header_has_a_numeric_zone_and_text_is_flowed() -> None:
    composed = compose(REPO / "issues" / "spring-2018.yaml", load_settings({}))
    data = composed.factory.build(Subscriber(email="ann@example.org", first_name="Ann")).data
    assert re.search(rb"^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r$", data, re.M)
    message = email.message_from_bytes(data, policy=email.policy.default)
    text_part = next(message.iter_parts())
    assert text_part.get_content_type() == "text/plain"
    assert text_part.get_param("format") == "flowed"
    text = str(text_part.get_content())
    assert "Dear Ann," in text
    soft = [line for line in text.splitlines() if line.endswith(" ")]
    assert len(soft) > 20, "prose lines end in soft breaks"
    assert all(len(line) <= 78 for line in soft)


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_flowed_text_reads_back_with_every_link_whole(path: Path) -> None:
    for edition in compose(path, load_settings({})).editions:
        text = edition.rendered.text
        unflowed = flowed.unflow(text)
        issue = edition.edition.issue
        for article in issue.all_articles:
            assert article.url in unflowed
            first_sentence = article.summary.split(". ")[0]
            if article is not issue.featured:
                assert first_sentence in unflowed, f"{article.slug}: the summary reads back as one line"
        for url in re.findall(r"https?://\S+", text):
            assert url.rstrip(").,") in unflowed


def test_flowed_finish_marks_soft_breaks_and_stuffs() -> None:
    raw = "one two \nthree\n\nFrom here\n> quoted\n  indented\ntrailing  \n\nlast \n"
    assert flowed.finish(raw) == "one two \nthree\n\n From here\n > quoted\n   indented\ntrailing\n\nlast\n"
    assert flowed.unflow(flowed.finish(raw)) == "one two three\n\nFrom here\n> quoted\n  indented\ntrailing\n\nlast\n"
