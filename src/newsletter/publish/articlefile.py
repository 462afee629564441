"""Imported articles as files: front matter in the project's format, plus a content hash.

The hash (`import_hash`) covers the whole file as the import wrote it, without the hash line
itself. If the file still hashes to it, nobody has touched it since, and `--update` may
replace it; if not, it was edited by hand and is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

import yaml

HASH_FIELD = "import_hash"
_HASH_LINE = re.compile(rf"^{HASH_FIELD}: *['\"]?sha256:([0-9a-f]{{64}})['\"]? *\n", re.M)


@dataclass(frozen=True)
class ArticleFields:
    """What an imported article's front matter says, in the order it is written."""

    title: str
    date: dt.date
    summary: str
    url: str
    category: str
    image: str | None = None
    image_alt: str | None = None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_text(fields: ArticleFields, body: str) -> str:
    """The file's text: front matter, the hash of everything else, the Markdown body."""
    data: dict[str, object] = {
        "title": fields.title,
        "date": fields.date,
        "summary": fields.summary,
        "url": fields.url,
        "category": fields.category,
    }
    if fields.image:
        data["image"] = fields.image
        data["image_alt"] = fields.image_alt
    front = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    unhashed = f"---\n{front}---\n{body}"
    return f"---\n{front}{HASH_FIELD}: sha256:{_digest(unhashed)}\n---\n{body}"


def edited_since_import(text: str) -> bool | None:
    """True when the file changed after the import wrote it; None when it was not imported
    (no hash: written by hand, so it is never replaced)."""
    match = _HASH_LINE.search(text)
    if match is None:
        return None
    return _digest(text[: match.start()] + text[match.end() :]) != match.group(1)
