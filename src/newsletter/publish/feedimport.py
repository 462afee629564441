"""`newsletter import`: a feed's items become `articles/<slug>.md` in the project's format.

Idempotent by link: an item whose link an article already has is reported, not imported
again. With `update`, such an article is rewritten only when it still is exactly what the
import wrote (its `import_hash`); a hand edit is never overwritten. Every article is checked
with the project's own loader before it is written, so what lands passes `newsletter check`.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from newsletter.content.articles import load_article, split_front_matter
from newsletter.errors import InputError
from newsletter.fileio import write_atomic
from newsletter.publish.articlefile import ArticleFields, article_text, edited_since_import
from newsletter.publish.feedread import Feed, FeedItem, parse_feed
from newsletter.publish.fetch import TIMEOUT, fetch
from newsletter.publish.htmlmd import clean, drop_first_image, first_image, text_of, to_markdown
from newsletter.publish.summary import shorten

DEFAULT_CATEGORY = "News"
# The office website's category names (WordPress's, as in the example site) -> the newsletter's.
DEFAULT_CATEGORIES = {
    "latest news": "News",
    "news": "News",
    "press releases": "Press release",
    "press release": "Press release",
    "in parliament": "In Parliament",
    "parliament": "In Parliament",
    "columns": "Column",
    "column": "Column",
    "interviews": "Interview",
    "interview": "Interview",
    "statements": "Statement",
    "statement": "Statement",
}
SLUG_MAX = 80
NEW, UPDATED, UNCHANGED, EXISTS, KEPT, SKIPPED = "new", "updated", "unchanged", "exists", "kept", "skipped"


@dataclass(frozen=True)
class ImportOptions:
    since: dt.date | None = None
    limit: int | None = None
    update: bool = False
    dry_run: bool = False
    categories: Mapping[str, str] | None = None  # lower-cased feed category -> article category


@dataclass(frozen=True)
class Outcome:
    """What happened to one item: `action` is one of new, updated, unchanged, exists, kept, skipped."""

    action: str
    number: int
    title: str
    path: Path | None
    detail: str = ""


CATEGORIES_SETTING = "NEWSLETTER_IMPORT_CATEGORIES"
SETTINGS = (CATEGORIES_SETTING,)


def parse_categories(table: str, where: str = CATEGORIES_SETTING) -> dict[str, str]:
    """`Feed name=Article category; ...` (`*=X` sets the default) over the built-in table."""
    mapping = dict(DEFAULT_CATEGORIES)
    for number, pair in enumerate(filter(None, (p.strip() for p in table.split(";"))), start=1):
        name, sep, category = pair.partition("=")
        if not sep or not name.strip() or not category.strip():
            raise InputError(f"{where}: entry {number} {pair!r} is not 'Feed category=Article category'")
        mapping[" ".join(name.split()).lower()] = " ".join(category.split())
    return mapping


def category_for(item: FeedItem, table: Mapping[str, str]) -> str:
    for name in item.categories:
        found = table.get(" ".join(name.split()).lower())
        if found:
            return found
    return table.get("*", DEFAULT_CATEGORY)


def slugify(text: str) -> str:
    # An apostrophe joins its word ("children's" -> "childrens"); every other mark separates.
    joined = re.sub(r"(?<=\w)['\u2019](?=\w)", "", text)
    ascii_text = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug


def slug_for(item: FeedItem) -> str:
    """From the link's last path segment (WordPress permalinks are slugs), else the title."""
    segments = [s for s in unquote(urlsplit(item.link).path).split("/") if s]
    last = re.sub(r"\.(html?|php|aspx?)$", "", segments[-1]) if segments else ""
    slug = slugify(last)
    if not slug or slug.isdigit() or slug in ("index", "feed", "amp") or not re.search(r"[a-z]", slug):
        slug = slugify(item.title)
    return slug or f"item-{item.date.isoformat()}"


def existing_links(articles_dir: Path) -> dict[str, Path]:
    """Link -> article file, for every article whose front matter can be read."""
    found: dict[str, Path] = {}
    for path in sorted(articles_dir.glob("*.md")):
        try:
            front, _body, _line = split_front_matter(path.read_text(encoding="utf-8"), path)
            data = yaml.safe_load(front)
        except (OSError, UnicodeDecodeError, InputError, yaml.YAMLError):
            continue  # `newsletter check` reports a broken article; the import leaves it alone
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            found.setdefault(_key(data["url"]), path)
    return found


def _key(url: str) -> str:
    """Links compare without a trailing slash or fragment (feeds are not consistent about either)."""
    return url.strip().split("#")[0].rstrip("/")


def build_article(item: FeedItem, feed: Feed, table: Mapping[str, str]) -> tuple[ArticleFields, str]:
    """Front matter and Markdown body for one item."""
    soup = clean(item.content_html, feed.link or item.link)
    summary = shorten(text_of(item.description_html)) or shorten(text_of(item.content_html))
    image, alt = None, None
    content_image = first_image(soup)
    if item.images:
        image = item.images[0]
        alt = content_image[1] if content_image and content_image[0] == image else ""
    elif content_image:
        image, alt = content_image
        drop_first_image(soup)  # the article's picture: shown once, above the text, not again in it
    if image:
        # The card's image links to the article, so without a description of its own its
        # text alternative is the link's purpose: the article's title.
        alt = alt or item.title
    body = to_markdown(soup)
    fields = ArticleFields(item.title, item.date, summary, item.link, category_for(item, table), image, alt)
    return fields, body


def _validated(slug: str, text: str) -> str | None:
    """The project's article loader's complaint about `text`, or None when it loads."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{slug}.md"
        path.write_text(text, encoding="utf-8")
        try:
            load_article(path)
        except InputError as exc:
            return str(exc).replace(str(path), f"articles/{slug}.md")
    return None


def _free_slug(base: str, articles_dir: Path, taken: set[str]) -> str:
    slug, number = base, 2
    while slug in taken or (articles_dir / f"{slug}.md").exists():
        suffix = f"-{number}"
        slug = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        number += 1
    return slug


def chosen_items(feed: Feed, options: ImportOptions) -> list[FeedItem]:
    """Newest first, on or after `since`, at most `limit`."""
    items = sorted(feed.items, key=lambda i: (i.date, -i.number), reverse=True)
    if options.since is not None:
        items = [i for i in items if i.date >= options.since]
    return items if options.limit is None else items[: options.limit]


def import_items(feed: Feed, articles_dir: Path, options: ImportOptions) -> Iterator[Outcome]:
    """Import the chosen items, yielding one outcome per item (broken items first)."""
    table = options.categories if options.categories is not None else DEFAULT_CATEGORIES
    for broken in feed.broken:
        yield Outcome(SKIPPED, broken.number, broken.title, None, broken.reason)
    known = existing_links(articles_dir) if articles_dir.is_dir() else {}
    taken: set[str] = set()
    for item in chosen_items(feed, options):
        path = known.get(_key(item.link))
        if path is not None and not options.update:
            yield Outcome(EXISTS, item.number, item.title, path, "already imported (--update refreshes it)")
            continue
        fields, body = build_article(item, feed, table)
        if path is not None:
            yield _updated(item, path, fields, body, options)
            continue
        slug = _free_slug(slug_for(item), articles_dir, taken)
        text = article_text(fields, body)
        problem = _validated(slug, text)
        if problem:
            yield Outcome(SKIPPED, item.number, item.title, None, problem)
            continue
        taken.add(slug)
        path = articles_dir / f"{slug}.md"
        known[_key(item.link)] = path
        if not options.dry_run:
            write_atomic(path, text.encode("utf-8"), mode=0o644)
        yield Outcome(NEW, item.number, item.title, path)


def _updated(item: FeedItem, path: Path, fields: ArticleFields, body: str, options: ImportOptions) -> Outcome:
    """`--update` of an article imported before: rewritten only if nobody has edited it."""
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Outcome(KEPT, item.number, item.title, path, f"cannot be read ({exc}): left alone")
    edited = edited_since_import(current)
    if edited is None:
        return Outcome(KEPT, item.number, item.title, path, "written by hand, not by an import: left alone")
    if edited:
        return Outcome(
            KEPT,
            item.number,
            item.title,
            path,
            "edited since it was imported: left alone (delete it to import it again)",
        )
    text = article_text(fields, body)
    if text == current:
        return Outcome(UNCHANGED, item.number, item.title, path)
    problem = _validated(path.stem, text)
    if problem:
        return Outcome(SKIPPED, item.number, item.title, path, problem)
    if not options.dry_run:
        write_atomic(path, text.encode("utf-8"), mode=0o644)
    return Outcome(UPDATED, item.number, item.title, path)


def import_feed(
    source: str, articles_dir: Path, options: ImportOptions, *, timeout: float = TIMEOUT
) -> tuple[Feed, list[Outcome]]:
    """Fetch and parse `source` (an http(s) URL or a file), then import its items."""
    fetched = fetch(source, timeout=timeout)
    feed = parse_feed(fetched.data, fetched.location, base_url=fetched.location if fetched.is_url else "")
    return feed, list(import_items(feed, articles_dir, options))
