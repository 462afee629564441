"""The archive's Atom 1.0 feed (RFC 4287): one entry per issue, the issue's HTML as content.

Ids are `urn:uuid:` names derived from the list id and the issue slug (UUID version 5), so an
entry keeps its id when the archive moves to another address or is rebuilt: feed readers never
show an issue twice. Timestamps come from the journal and the issues, never from the clock, so
the same inputs give the same bytes.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Entry:
    """What the feed says about one issue."""

    slug: str
    title: str
    summary: str
    url: str
    updated: str  # RFC 3339, UTC
    html: str


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


def body_of(html: str) -> str:
    """The inside of `<body>`, without comments (Outlook's conditional markup) or the hidden
    preheader: feed readers show content inside their own page and drop inline styles, which
    would make the hidden preheader visible; the entry's summary carries it instead."""
    match = re.search(r"<body\b[^>]*>(.*)</body>", html, re.S | re.I)
    body = re.sub(r"<!--.*?-->", "", match.group(1) if match else html, flags=re.S)
    body = re.sub(r'^\s*<div style="display:none;[^"]*">[^<]*</div>', "", body)
    return body.strip()


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
        _sub(item, "published", entry.updated)
        _sub(item, "link", rel="alternate", type="text/html", href=entry.url)
        if entry.summary:
            _sub(item, "summary", entry.summary)
        _sub(item, "content", body_of(entry.html), type="html")
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
