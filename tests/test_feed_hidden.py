"""The feed's entries show what a reader of the email sees: a hidden element (the preheader and
its zero-width filler, or anything hidden the same ways) adds nothing, and everything else is
copied unchanged. Properties over strange text, then the real template with any preheader."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest
import yaml
from hypothesis import given, reject
from hypothesis import strategies as st

from newsletter.content.render import Renderer
from newsletter.errors import InputError
from newsletter.mail.compose import compose
from newsletter.mail.webcopy import web_copy
from newsletter.publish import atom
from newsletter.settings import load_settings
from tests.conftest import REPO

ATOM = {"a": atom.ATOM}
FILLER = set("\u034f\u200b\u200c\u200d\u2060\ufeff")
HIDING = [
    "display:none",
    "DISPLAY : None !important",
    "color:#fff; display: none;",
    "display:none;max-height:0;max-width:0;overflow:hidden;mso-hide:all;",
    "max-height:0px; overflow:hidden",
    "overflow: hidden; max-height: 0",
    "mso-hide:all",
    "visibility:hidden",
    "opacity:0",
]
# Text as an editor may type it: anything but controls and lone surrogates, which the issue loader refuses.
prose = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)


def page(body: str) -> str:
    return f'<!doctype html><html><head><style>p{{margin:0}}</style></head><body style="margin:0">{body}</body></html>'


@given(
    before=st.text(max_size=60),
    inside=st.text(max_size=60),
    after=st.text(max_size=60),
    style=st.sampled_from(HIDING),
    tag=st.sampled_from(["div", "span", "p", "td"]),
)
def test_a_hidden_element_adds_nothing_and_the_rest_is_unchanged(
    before: str, inside: str, after: str, style: str, tag: str
) -> None:
    shown = f"<p>{escape(before)}</p><!--[if mso]><table><![endif]--><p class='x'>{escape(after)}<br></p>"
    hidden = f'<{tag} class="nl-preheader" style="{style}">{escape(inside)}<b>{escape(inside)}</b><br>&#847;</{tag}>'
    expected = f"<p>{escape(before)}</p><p class='x'>{escape(after)}<br></p>"
    assert atom.body_of(page(hidden + shown)) == expected
    assert atom.body_of(page(shown[:-4] + hidden + "</p>")) == expected
    assert atom.body_of(page(f"<div hidden>{escape(inside)}</div>" + shown)) == expected


@given(style=st.sampled_from(["display:block", "color:#000", "max-height:10px;overflow:hidden", "font-size:0px", ""]))
def test_an_element_shown_by_its_style_is_kept(style: str) -> None:
    kept = f'<div style="{style}">Shown <a href="https://www.example.org/?a=1&amp;b=2">here</a> &nbsp;</div>'
    assert atom.body_of(page(kept)) == kept


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("office")
    for name in ("articles", "templates"):
        shutil.copytree(REPO / name, root / name)
    (root / "issues").mkdir()
    return root


@given(preheader=prose)
def test_any_preheader_of_the_real_template_stays_out_of_the_entry(office: Path, preheader: str) -> None:
    """Through the shipped template, compose and the web copy, as `archive` does; the summary
    carries the preheader as plain text."""
    marked = f"PREHEADER-{preheader}"
    issue = office / "issues" / "any.yaml"
    text = {
        "subject": "Any",
        "date": "2019-03-08",
        "preheader": marked,
        "intro": "Hello.",
        "articles": ["rape-cases-review-debate"],
    }
    issue.write_text(yaml.safe_dump(text, allow_unicode=True), encoding="utf-8")
    try:
        copy = web_copy(compose(issue, load_settings({}), Renderer(office / "templates")))
    except InputError:
        reject()  # a character no email can carry: the loader refuses it, with its own test
    url = "https://www.example.org/any.html"
    entry = atom.Entry("any", "Any", copy.preheader, url, updated="2019-03-09T00:00:00Z", html=copy.html)
    info = atom.FeedInfo(
        "t", "s", "<l.example.org>", "a", "https://www.example.org", "https://x.org/f", "https://x.org/"
    )
    xml = ET.fromstring(atom.feed_xml(info, [entry]))
    content = xml.findtext("a:entry/a:content", "", ATOM)
    assert "PREHEADER-" not in content and "nl-preheader" not in content
    assert not set(content) & FILLER, "zero-width filler in the entry"
    assert "Hello." in content, "the visible text is kept"
    assert xml.findtext("a:entry/a:summary", "", ATOM) == copy.preheader
