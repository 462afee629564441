"""The archive's Atom 1.0 feed (RFC 4287): one entry per issue, the issue's HTML as content.

Ids are `urn:uuid:` names derived from the list id and the issue slug (UUID version 5), so an
entry keeps its id when the archive moves to another address or is rebuilt: feed readers never
show an issue twice. `published` is the issue's own date; `updated` its send (from the journal):
never the clock, so the same inputs give the same bytes.

Feed readers show the content inside their own page and drop inline styles, so anything the
email hides with CSS (the preheader and its zero-width filler) would show as stray text: every
hidden element is left out of the content. The entry's summary carries the preheader instead.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Entry:
    """What the feed says about one issue."""

    slug: str
    title: str
    summary: str
    url: str
    updated: str  # RFC 3339, UTC: the send
    html: str
    published: str = ""  # RFC 3339, UTC: the date ("" for `updated`)


@dataclass(frozen=True)
class FeedInfo:
    """The feed's own metadata: who publishes it and where."""

    title: str
    subtitle: str
    list_id: str
    author: str
    author_uri: str
    self_url: str
    index_url: str


def stable_id(list_id: str, slug: str = "") -> str:
    """The same id for the same list and issue, wherever and whenever the archive is built."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsletter:{list_id}/{slug}").urn


# Elements with no end tag: they never open a hidden subtree.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)


def declarations(style: str) -> dict[str, str]:
    """`display: none !important; X:y` -> {"display": "none", "x": "y"} (the last one wins, as in CSS)."""
    found = {}
    for declaration in style.lower().split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            found[name.strip()] = re.sub(r"\s*!\s*important\s*$", "", value).strip()
    return found


def hidden(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element is hidden from a reader of the email (the `hidden` attribute, or an
    inline style a mail client honours and a feed reader strips)."""
    if any(name.lower() == "hidden" for name, _ in attrs):
        return True
    style = declarations(";".join(value or "" for name, value in attrs if name.lower() == "style"))
    zero = ("0", "0px", "0%", "0.0")
    return (
        style.get("display") == "none"
        or style.get("visibility") == "hidden"
        or style.get("mso-hide") == "all"
        or style.get("opacity") in zero
        or (style.get("max-height") in zero and style.get("overflow") == "hidden")
    )


class _Visible(HTMLParser):
    """Copies markup through unchanged, except comments (Outlook's conditional markup),
    declarations and every hidden element with all it contains."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skipping: list[str] = []  # open tags inside a hidden element, outermost first

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping or hidden(attrs):
            if tag not in VOID:
                self.skipping.append(tag)
            return
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skipping and not hidden(attrs):
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if not self.skipping:
            self.out.append(f"</{tag}>")
        elif tag in self.skipping:  # close up to the matching tag (HTML lets some end tags go unsaid)
            while self.skipping.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")


def body_of(html: str) -> str:
    """The inside of `<body>` as a feed reader may show it: no comments (Outlook's conditional
    markup) and no hidden element (the preheader and its filler), the rest unchanged."""
    match = re.search(r"<body\b[^>]*>(.*)</body>", html, re.S | re.I)
    parser = _Visible()
    parser.feed(match.group(1) if match else html)
    parser.close()
    return "".join(parser.out).strip()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def feed_xml(info: FeedInfo, entries: Sequence[Entry]) -> bytes:
    """The feed document, entries in the order given (newest first)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, "id", stable_id(info.list_id))
    _sub(root, "title", info.title)
    _sub(root, "subtitle", info.subtitle)
    _sub(root, "updated", max((e.updated for e in entries), default=EPOCH))
    _sub(root, "link", rel="self", type="application/atom+xml", href=info.self_url)
    _sub(root, "link", rel="alternate", type="text/html", href=info.index_url)
    author = _sub(root, "author")
    _sub(author, "name", info.author)
    _sub(author, "uri", info.author_uri)
    for entry in entries:
        item = _sub(root, "entry")
        _sub(item, "id", stable_id(info.list_id, entry.slug))
        _sub(item, "title", entry.title)
        _sub(item, "updated", entry.updated)
        _sub(item, "published", entry.published or entry.updated)
        _sub(item, "link", rel="alternate", type="text/html", href=entry.url)
        if entry.summary:
            _sub(item, "summary", entry.summary)
        _sub(item, "content", body_of(entry.html), type="html")
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
