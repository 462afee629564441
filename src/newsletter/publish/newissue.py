"""`newsletter new-issue`: a starter issue YAML from chosen articles, so that import, pick,
preview, send is a short path. It never overwrites an issue and refuses unknown articles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import yaml

from newsletter.content.articles import SLUG, Article, load_article
from newsletter.content.issue import load_issue
from newsletter.content.placeholders import STARTER_INTRO
from newsletter.errors import InputError
from newsletter.fileio import write_atomic
from newsletter.gates.text import did_you_mean
from newsletter.publish.summary import shorten

SUBJECT_MAX = 78
PREHEADER_MAX = 140


def _quoted(text: str) -> str:
    return yaml.safe_dump(text, allow_unicode=True, width=10_000, default_style='"').strip()


def starter_yaml(articles: Sequence[Article], date: dt.date) -> str:
    """The issue's text: the first article featured, subject and preheader from it."""
    first = articles[0]
    lines = [
        f"subject: {_quoted(shorten(first.title, SUBJECT_MAX))}",
        f"date: {date.isoformat()}",
        f"preheader: {_quoted(shorten(first.summary, PREHEADER_MAX))}",
        "intro: |",
        *(f"  {line}" for line in STARTER_INTRO),
        "articles:                      # in order; at most one featured",
        f"  - slug: {first.slug}",
        "    featured: true",
        *(f"  - {article.slug}" for article in articles[1:]),
    ]
    return "\n".join(lines) + "\n"


def _near(slug: str, known: list[str]) -> str:
    """` (did you mean 'x'?)` for a misspelt article, as every command says it for an issue."""
    hint = did_you_mean(slug, known)
    return f" ({hint.removeprefix('; ')})" if hint else ""


def new_issue(root: Path, slug: str, article_slugs: Sequence[str], *, date: dt.date) -> Path:
    """Write `root/issues/<slug>.yaml` and return its path; nothing is written on any error."""
    if not SLUG.match(slug):
        raise InputError(f"{slug!r}: an issue slug is lowercase letters, digits and hyphens (like 'summer-2019')")
    path = root / "issues" / f"{slug}.yaml"
    if path.exists():
        raise InputError(f"{path}: already exists; edit it, or choose another slug")
    chosen = [s.strip() for s in article_slugs if s.strip()]
    if not chosen:
        raise InputError("--articles: name at least one article (its slug, as in articles/<slug>.md)")
    repeated = sorted({s for s in chosen if chosen.count(s) > 1})
    if repeated:
        raise InputError(f"--articles: {repeated[0]!r} is listed twice")
    missing = [s for s in chosen if not SLUG.match(s) or not (root / "articles" / f"{s}.md").is_file()]
    if missing:
        known = [p.stem for p in (root / "articles").glob("*.md")]
        named = ", ".join(f"{s!r}{_near(s, known)}" for s in missing)
        raise InputError(f"--articles: no article {named} in {root / 'articles'}")
    articles = [load_article(root / "articles" / f"{s}.md") for s in chosen]
    write_atomic(path, starter_yaml(articles, date).encode("utf-8"), mode=0o644)
    try:
        load_issue(path)
    except InputError:
        path.unlink()
        raise
    return path
