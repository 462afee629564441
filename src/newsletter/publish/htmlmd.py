"""A feed item's HTML to the clean Markdown of an article.

Cleaning happens on one BeautifulSoup tree before markdownify converts it: scripts, styles,
embeds and forms go; so do tracking pixels (1x1 images, known counters), share buttons and
"related posts" blocks, WordPress's "The post ... appeared first on ..." line, and paragraphs
left empty. Links and images are made absolute against the feed's own link, so they work in
an email. The result has no raw HTML (the article renderer would show it as text).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

_DROP = (
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "svg",
    "canvas",
    "template",
    "link",
    "meta",
)
_SHARE_CLASS = re.compile(
    r"share|sharing|social|sharedaddy|addtoany|a2a_|jp-relatedposts|related-posts|wpcnt|"
    r"post-likes|likes-widget|printfriendly",
    re.I,
)
_SHARE_LINK = re.compile(
    r"^https?://(www\.)?(facebook\.com/sharer|twitter\.com/(intent|share)|x\.com/intent|linkedin\.com/share|"
    r"api\.whatsapp\.com/send|wa\.me/|pinterest\.[a-z.]+/pin/create|reddit\.com/submit|t\.me/share|"
    r"telegram\.me/share|tumblr\.com/share|bsky\.app/intent)",
    re.I,
)
_PIXEL_SRC = re.compile(
    r"(stats\.wordpress\.com|pixel\.wp\.com|feeds\.feedburner\.com/~r|/~ff/|doubleclick\.net|"
    r"google-analytics\.com|/pixel(\.gif|\.png)?(\?|$)|/b\.gif|[?&]utm_)",
    re.I,
)
_TRAILER = re.compile(r"^\s*the post .* appeared first on .*$", re.I | re.S)


def _is_pixel(img: Tag) -> bool:
    sizes = [str(img.get(a) or "").strip().removesuffix("px") for a in ("width", "height")]
    tiny = any(s.isdigit() and int(s) <= 2 for s in sizes)
    return tiny or bool(_PIXEL_SRC.search(str(img.get("src") or "")))


def _classes(tag: Tag) -> str:
    value: object = tag.get("class") or []
    names = value if isinstance(value, list) else [value]
    return " ".join(map(str, names)) + " " + str(tag.get("id") or "")


def clean(html: str, base: str) -> BeautifulSoup:
    """The item's HTML with everything a newsletter reader should not get removed."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(True):
        if isinstance(tag, Tag) and not tag.decomposed and _SHARE_CLASS.search(_classes(tag)):
            tag.decompose()
    for link in soup.find_all("a"):
        href = str(link.get("href") or "").strip()
        if _SHARE_LINK.search(href):
            link.decompose()
            continue
        absolute = urljoin(base, href) if href else ""
        if urlsplit(absolute).scheme in ("http", "https", "mailto"):
            link["href"] = absolute
        else:
            link.unwrap()  # javascript:, data:, a bare fragment: keep the words, drop the link
    for img in soup.find_all("img"):
        src = urljoin(base, str(img.get("src") or "").strip())
        if _is_pixel(img) or urlsplit(src).scheme not in ("http", "https"):
            img.decompose()
        else:
            img["src"] = src
    for block in soup.find_all(
        [
            "p",
            "div",
            "span",
            "li",
            "figure",
            "figcaption",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "ul",
            "ol",
            "a",
            "strong",
            "em",
            "b",
            "i",
        ]
    ):
        if block.decomposed:
            continue
        text = block.get_text().replace("\xa0", " ").strip()
        if (not text and block.find("img") is None) or (block.name == "p" and _TRAILER.match(text)):
            block.decompose()
    return soup


class _Converter(MarkdownConverter):
    """markdownify with the project's conventions: ATX headings, '-' bullets, no HTML left."""

    def __init__(self) -> None:
        # Only * and _ are escaped: the renderer never passes raw HTML through, so `<` and `&`
        # can stay as written (escaping them makes the file harder for staff to edit).
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False, strip=["span", "div", "u"])


def to_markdown(soup: BeautifulSoup) -> str:
    """Markdown for the cleaned tree, with runs of blank lines and trailing spaces tidied."""
    text = _Converter().convert_soup(soup)
    lines = [line.rstrip() for line in text.replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def first_image(soup: BeautifulSoup) -> tuple[str, str] | None:
    """(src, alt) of the first image left after cleaning."""
    img = soup.find("img")
    if not isinstance(img, Tag):
        return None
    return str(img.get("src") or ""), " ".join(str(img.get("alt") or "").split())


def drop_first_image(soup: BeautifulSoup) -> None:
    """Remove the first image, and the paragraph or figure left empty without it."""
    img = soup.find("img")
    if not isinstance(img, Tag):
        return
    parent = img.parent
    img.decompose()
    while isinstance(parent, Tag) and parent.name not in ("[document]", "body"):
        above = parent.parent
        if parent.get_text().strip() or parent.find("img") is not None:
            break
        parent.decompose()
        parent = above


def text_of(html: str) -> str:
    """The words of an HTML fragment (descriptions, titles): elements apart, no space left
    before punctuation where an element ended."""
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    return re.sub(r"\s+([.,;:!?)\u2019\u201d])", r"\1", text)
