"""A feed's bytes to items: feedparser reads RSS 2.0 and Atom (and their many dialects);
this module checks each item has what an article needs and says why when it does not."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser  # type: ignore[import-untyped]

from newsletter.errors import InputError
from newsletter.publish.htmlmd import text_of
from newsletter.publish.summary import one_line


@dataclass(frozen=True)
class FeedItem:
    """One usable item: links absolute, title as plain text, HTML as the feed gave it (sanitised)."""

    number: int  # position in the feed, from 1, for reports
    title: str
    link: str
    date: dt.date
    description_html: str
    content_html: str
    categories: tuple[str, ...]
    images: tuple[str, ...]  # enclosure, media:content, media:thumbnail: in that order


@dataclass(frozen=True)
class BrokenItem:
    """An item that cannot become an article, and why."""

    number: int
    title: str
    reason: str


@dataclass(frozen=True)
class Feed:
    title: str
    link: str  # what relative links are resolved against
    items: tuple[FeedItem, ...]
    broken: tuple[BrokenItem, ...]


def parse_feed(data: bytes, location: str, *, base_url: str = "") -> Feed:
    """Parse a feed; `location` names it in errors, `base_url` is where it was fetched from."""
    parsed = feedparser.parse(data, resolve_relative_uris=False, sanitize_html=True)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({str(problem).splitlines()[0]})" if problem else ""
        raise InputError(f"{location}: not an RSS or Atom feed{detail}")
    feed_link = urljoin(base_url, str(parsed.feed.get("link") or "").strip()) or base_url
    items: list[FeedItem] = []
    broken: list[BrokenItem] = []
    for number, entry in enumerate(parsed.entries, start=1):
        item = _item(number, entry, feed_link)
        if isinstance(item, FeedItem):
            items.append(item)
        else:
            broken.append(item)
    title = one_line(text_of(str(parsed.feed.get("title") or "")))
    return Feed(title, feed_link, tuple(items), tuple(broken))


def _item(number: int, entry: Any, base: str) -> FeedItem | BrokenItem:
    title = one_line(text_of(str(entry.get("title") or "")))
    raw_link = str(entry.get("link") or "").strip()
    link = urljoin(base, raw_link) if raw_link else ""  # an empty link must not become the feed's own
    # Only a real `updated` date: feedparser maps a missing one to `published` (with a
    # DeprecationWarning, a fallback it says it will remove), which was tried already.
    when = entry.get("published_parsed") or (entry.get("updated_parsed") if "updated_parsed" in entry else None)
    content = entry.get("content") or []
    content_html = str(content[0].get("value") or "") if content else ""
    description = str(entry.get("summary") or "")
    if not title:
        return BrokenItem(number, "", "it has no title")
    if urlsplit(link).scheme not in ("http", "https") or not urlsplit(link).hostname:
        unresolved = "" if base else " (and the feed has none to resolve it against)"
        return BrokenItem(number, title, f"it has no http(s) link{unresolved}")
    if when is None:
        return BrokenItem(number, title, "it has no date (pubDate, published or updated) that can be read")
    if not (one_line(text_of(content_html)) or one_line(text_of(description))):
        return BrokenItem(number, title, "it has no text (description or content)")
    date = dt.datetime.fromtimestamp(calendar.timegm(when), dt.UTC).date()
    categories = tuple(one_line(str(tag.get("term") or "")) for tag in entry.get("tags") or [] if tag.get("term"))
    return FeedItem(
        number, title, link, date, description, content_html or description, categories, _images(entry, base)
    )


def _images(entry: Any, base: str) -> tuple[str, ...]:
    found: list[str] = []
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type") or "").startswith("image/"):
            found.append(str(link.get("href") or ""))
    for media in entry.get("media_content") or []:
        if media.get("medium") == "image" or str(media.get("type") or "").startswith("image/"):
            found.append(str(media.get("url") or ""))
    found.extend(str(thumb.get("url") or "") for thumb in entry.get("media_thumbnail") or [])
    absolute = (urljoin(base, src.strip()) for src in found if src.strip())
    return tuple(src for src in absolute if urlsplit(src).scheme in ("http", "https"))
