"""Ward editions: one issue, a version per group of wards that get the same articles.

An article entry may name the wards it is for (`wards: [Brinnington and Central]`); every
reader gets the articles for everyone plus those for their own ward. Wards that end up with
the same articles share an edition, so the issue is rendered once per distinct edition (usually
two or three), never per recipient. A reader whose ward no entry names, or who has no ward,
gets the edition for everyone, whose key is "".

An edition's key is its wards' names as slugs joined by "+" (`heatons-north+heatons-south`):
stable for the same issue file, readable in the journal (`deliveries.edition`), and safe in a
file name (`<issue>.<key>.html` for its web copy).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from newsletter.content.issue import Issue
from newsletter.errors import InputError
from newsletter.gates.text import shown

EVERYONE = ""


def tidy(name: str) -> str:
    """A name as written, with its spaces tidied (for messages)."""
    return " ".join(name.split())


def ward_key(name: str) -> str:
    """Ward names compare without regard to case or extra spaces (as `audience:` does)."""
    return tidy(name).casefold()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ward_key(name)).strip("-") or "ward"


@dataclass(frozen=True)
class Edition:
    """One version of an issue: its key, who it is for, and the issue with only its articles."""

    key: str
    wards: tuple[str, ...]  # as written in the issue; empty for the edition for everyone
    issue: Issue

    @property
    def label(self) -> str:
        return "everyone" if not self.wards else ", ".join(self.wards)

    @property
    def file_stem(self) -> str:
        """`<issue>` for everyone, `<issue>.<key>` for a ward edition (web copies, archive pages)."""
        return self.issue.slug if not self.key else f"{self.issue.slug}.{self.key}"


def editions(issue: Issue) -> list[Edition]:
    """The edition for everyone first, then one per distinct set of ward articles, in issue order."""
    everyone = _only(issue, frozenset(slug for slug in _slugs(issue) if slug not in issue.wards))
    found = [Edition(EVERYONE, (), everyone)]
    groups: dict[frozenset[str], list[str]] = {}
    for slug in _slugs(issue):
        for ward in issue.wards.get(slug, ()):
            articles = frozenset(s for s, wards in issue.wards.items() if ward_key(ward) in map(ward_key, wards))
            names = groups.setdefault(articles, [])
            if ward_key(ward) not in map(ward_key, names):
                names.append(ward)
    for articles, names in groups.items():
        key = "+".join(_slug(name) for name in names)
        shown = _only(issue, articles | {slug for slug in _slugs(issue) if slug not in issue.wards})
        found.append(Edition(key, tuple(names), shown))
    return found


def _slugs(issue: Issue) -> list[str]:
    return [article.slug for article in issue.all_articles]


def _only(issue: Issue, slugs: frozenset[str]) -> Issue:
    featured = issue.featured if issue.featured is not None and issue.featured.slug in slugs else None
    articles = tuple(a for a in issue.articles if a.slug in slugs)
    return dataclasses.replace(issue, featured=featured, articles=articles)


def edition_named(issue_editions: list[Edition], name: str) -> Edition:
    """The edition `--edition NAME` means: `everyone`, an edition's key (as the journal, `status`
    and `build` name it), or a ward it is for; compared without regard to case or extra spaces."""
    wanted = ward_key(name)
    if wanted == "everyone":
        return issue_editions[0]
    for edition in issue_editions[1:]:
        if wanted == edition.key or wanted in map(ward_key, edition.wards):
            return edition
    known = ", ".join(["everyone", *(e.key for e in issue_editions[1:])])
    slug = issue_editions[0].issue.slug
    raise InputError(f"--edition {shown(name)}: {slug} has no such edition (its editions: {known})")


def edition_of(issue_editions: list[Edition], ward: str) -> Edition:
    """The edition a reader in `ward` gets."""
    wanted = ward_key(ward)
    if wanted:
        for edition in issue_editions[1:]:
            if wanted in map(ward_key, edition.wards):
                return edition
    return issue_editions[0]
