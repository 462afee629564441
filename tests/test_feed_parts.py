"""The parts of the feed import that need no server: summaries, slugs, cleaning, the hash."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.content.articles import SLUG, load_article
from newsletter.errors import InputError
from newsletter.publish.articlefile import ArticleFields, article_text, edited_since_import
from newsletter.publish.feedimport import ImportOptions, import_items, parse_categories, slugify
from newsletter.publish.feedread import Feed, FeedItem, parse_feed
from newsletter.publish.fetch import fetch
from newsletter.publish.htmlmd import clean, to_markdown
from newsletter.publish.summary import CARD, shorten


@given(st.text())
def test_a_summary_is_one_line_within_a_cards_length(text: str) -> None:
    summary = shorten(text)
    assert len(summary) <= CARD
    assert not re.search(r"[\x00-\x1f\x7f]", summary)
    assert summary == summary.strip()


@given(st.lists(st.from_regex(r"[A-Z][a-z]{1,12}( [a-z]{1,12}){2,15}\.", fullmatch=True), min_size=1, max_size=30))
def test_a_long_summary_ends_at_a_sentence_boundary(sentences: list[str]) -> None:
    text = " ".join(sentences)
    summary = shorten(text)
    assert text.startswith(summary.removesuffix("…"))
    if len(text) > CARD and len(sentences[0]) <= CARD:
        assert summary.endswith(".") and (text[len(summary) :][:1] in ("", " "))


def test_wordpress_trailers_are_dropped() -> None:
    assert shorten("One. Two. […]") == "One. Two."
    assert shorten("One. Continue reading \u2192") == "One."
    assert shorten("One. The post One appeared first on Ann Coffey.") == "One."


@given(st.text())
def test_a_slug_is_always_a_valid_file_name_or_empty(text: str) -> None:
    slug = slugify(text)
    assert slug == "" or SLUG.match(slug)


def test_slugs_from_titles() -> None:
    title = "Children\u2019s homes: a \u2018catastrophic\u2019 failure"
    assert slugify(title) == "childrens-homes-a-catastrophic-failure"
    assert slugify("Ça va, Zoë?") == "ca-va-zoe"


def test_the_hash_tells_an_untouched_file_from_an_edited_one() -> None:
    fields = ArticleFields(
        "Title: with a colon", dt.date(2019, 11, 5), "One sentence.", "https://www.example.org/a/", "News"
    )
    text = article_text(fields, "Body text.\n")
    assert edited_since_import(text) is False
    assert edited_since_import(text.replace("Body text.", "Body text!")) is True
    assert edited_since_import(text.replace("News", "Column")) is True
    assert edited_since_import(re.sub(r"import_hash: .*\n", "", text)) is None


def test_cleaning_keeps_words_and_drops_what_readers_should_not_get() -> None:
    html = (
        '<p onclick="x()">Hello <a href="javascript:alert(1)">there</a> and <a href="/a">a link</a></p>'
        '<p><span> </span></p><div class="addtoany_share"><a href="https://example.com">Share</a></div>'
        '<img src="/t.gif" width="1" height="1"><iframe src="https://video.example.com"></iframe>'
    )
    markdown = to_markdown(clean(html, "https://www.example.org/"))
    assert markdown == "Hello there and [a link](https://www.example.org/a)\n"


def test_the_category_table_is_configurable() -> None:
    table = parse_categories("Events=What's on; *=Update")
    assert table["events"] == "What's on" and table["press releases"] == "Press release" and table["*"] == "Update"


@given(st.binary(max_size=2000))
def test_any_bytes_are_a_feed_or_one_clear_error(data: bytes) -> None:
    """No traceback from whatever a server sends: a Feed, or an InputError naming the source."""
    try:
        feed = parse_feed(data, "feed.xml", base_url="https://www.example.org/")
    except InputError as exc:
        assert str(exc).startswith("feed.xml: not an RSS or Atom feed")
    else:
        assert all(item.link.startswith(("http://", "https://")) for item in feed.items)


_FRAGMENTS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<a href='/x'>",
        "<a href='javascript:x()'>",
        "</a>",
        "<img src='/i.jpg' alt='A'>",
        "<img src='x' width='1' height='1'>",
        "<script>",
        "</script>",
        "<div class='share'>",
        "</div>",
        "&amp;",
        "&nbsp;",
        "<ul><li>",
        "</li></ul>",
        "<h2>",
        "</h2>",
        "*",
        "_",
        "[",
        "]",
        "<",
        ">",
        "#",
        "1.",
        "\n",
        " ",
    ]
)


@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=12)), min_size=1, max_size=40))
def test_any_item_html_gives_an_article_the_loader_accepts_or_a_reason(parts: list[str]) -> None:
    html = "<p>Opening words.</p>" + "".join(parts)
    feed = Feed(
        "Office",
        "https://www.example.org/",
        (FeedItem(1, "A title", "https://www.example.org/a/", dt.date(2019, 11, 5), html, html, ("News",), ()),),
        (),
    )
    with tempfile.TemporaryDirectory() as folder:
        outcomes = list(import_items(feed, Path(folder), ImportOptions()))
        assert [o.action for o in outcomes] in (["new"], ["skipped"])
        if outcomes[0].action == "new":
            article = load_article(Path(folder) / "a.md")
            assert "<script" not in article.body_html and "javascript:" not in article.body_html


def test_a_feed_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"<rss>" + b" " * 2000 + b"</rss>")
    with pytest.raises(InputError, match=r"big\.xml: the feed is over the 1000 bytes limit$"):
        fetch(str(big), max_bytes=1000)
    assert fetch(str(big), max_bytes=5000).data.startswith(b"<rss>")
