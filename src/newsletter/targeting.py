"""Who of the audience an issue goes to: the issue's segment, `--ward`/`--tag`, suppressions.

The issue's `audience: {wards: [...], tags: [...]}` selects anyone in one of the wards OR with
one of the tags. `--ward` and `--tag` narrow further: each one given must also match (a ward
among the `--ward`s, a tag among the `--tag`s). Names compare case- and space-insensitively.
A name that matches nobody in the list is an error, because a typo would otherwise quietly
leave a whole ward out. Every address left out stays in the audience's report with its
reason, so the dry run and the confirmation prompt can say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.audience import Audience, Skipped, Subscriber
from newsletter.errors import InputError
from newsletter.issue import Issue
from newsletter.store.suppressions import erased_checker, suppressed_addresses

NOT_IN_SEGMENT = "not in segment"
SUPPRESSED = "suppressed"
AUDIENCE_KEYS = ("wards", "tags")


def norm(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Segment:
    """Ward and tag names (normalised) and where they came from, for messages."""

    wards: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    origin: str = ""

    def __bool__(self) -> bool:
        return bool(self.wards or self.tags)

    def describe(self) -> str:
        parts = []
        if self.wards:
            parts.append("ward " + " or ".join(sorted(self.wards)))
        if self.tags:
            parts.append("tag " + " or ".join(sorted(self.tags)))
        return ", ".join(parts)


def _names(value: Any, at: str, key: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise InputError(f"{at}: audience '{key}' must be a list of names, like [Heatons North, Reddish South]")
    return frozenset(norm(v) for v in items)


def issue_segment(issue: Issue) -> Segment:
    """Validate the issue's `audience:` mapping into a Segment (empty: everyone)."""
    raw = issue.audience
    if raw is None:
        return Segment()
    at = issue.audience_at or str(issue.path)
    unknown = sorted(str(k) for k in raw if k not in AUDIENCE_KEYS)
    if unknown:
        raise InputError(f"{at}: unknown key '{unknown[0]}' under audience (known: wards, tags)")
    segment = Segment(_names(raw.get("wards", []), at, "wards"), _names(raw.get("tags", []), at, "tags"), at)
    if not segment:
        raise InputError(f"{at}: 'audience' names no wards or tags (leave it out to send to everyone)")
    return segment


def check_names(segment: Segment, wards: Iterable[str], tags: Iterable[str], what: str) -> None:
    """A ward or tag that names nobody in the list is an error (a typo would leave a ward out)."""
    known_wards = {norm(w) for w in wards}
    known_tags = set(tags)
    for kind, asked, known in (("ward", segment.wards, known_wards), ("tag", segment.tags, known_tags)):
        unknown = sorted(asked - known)
        if unknown:
            raise InputError(
                f"{what}: {kind} '{unknown[0]}' matches nobody in the subscriber list",
                hint=f"known {kind}s: {', '.join(sorted(known)) or '(none)'}",
            )


def _in_issue_segment(subscriber: Subscriber, segment: Segment) -> bool:
    return norm(subscriber.ward) in segment.wards or any(t in segment.tags for t in subscriber.tags)


def _in_cli_filter(subscriber: Subscriber, segment: Segment) -> bool:
    ward_ok = not segment.wards or norm(subscriber.ward) in segment.wards
    tag_ok = not segment.tags or any(t in segment.tags for t in subscriber.tags)
    return ward_ok and tag_ok


def _where(subscriber: Subscriber) -> str:
    tags = ", ".join(subscriber.tags) or "none"
    return f"ward {subscriber.ward or '(none)'}, tags {tags}"


@dataclass(frozen=True)
class Targeting:
    """The issue's segment and the `--ward`/`--tag` filter, applied one subscriber at a time."""

    from_issue: Segment
    from_cli: Segment

    def check_names(self, wards: Iterable[str], tags: Iterable[str]) -> None:
        wards, tags = list(wards), list(tags)
        if self.from_issue:
            check_names(self.from_issue, wards, tags, self.from_issue.origin)
        if self.from_cli:
            check_names(self.from_cli, wards, tags, "--ward/--tag")

    def left_out(self, subscriber: Subscriber) -> str | None:
        """Why a subscriber is not in this send's segment, or None when they are."""
        if self.from_issue and not _in_issue_segment(subscriber, self.from_issue):
            return f"{_where(subscriber)}; the issue targets {self.from_issue.describe()}"
        if self.from_cli and not _in_cli_filter(subscriber, self.from_cli):
            return f"{_where(subscriber)}; --ward/--tag asks for {self.from_cli.describe()}"
        return None


def targeting(issue: Issue, wards: Sequence[str] = (), tags: Sequence[str] = ()) -> Targeting:
    cli = Segment(frozenset(norm(w) for w in wards if w.strip()), frozenset(norm(t) for t in tags if t.strip()),
                  "--ward/--tag")
    return Targeting(issue_segment(issue), cli)


def target(
    audience: Audience,
    issue: Issue,
    *,
    wards: Sequence[str] = (),
    tags: Sequence[str] = (),
    journal_path: Path | None = None,
) -> Audience:
    """A new Audience: this issue's recipients, with everyone left out added to `skipped`."""
    chosen = targeting(issue, wards, tags)
    chosen.check_names((s.ward for s in audience.subscribers), (t for s in audience.subscribers for t in s.tags))
    suppressed = suppressed_addresses(journal_path) if journal_path is not None else {}
    erased = erased_checker(journal_path)
    result = Audience(audience.path, [], list(audience.skipped), audience.rows)
    for subscriber in audience.subscribers:
        if (detail := chosen.left_out(subscriber)) is not None:
            result.skipped.append(Skipped(subscriber.line, subscriber.email, NOT_IN_SEGMENT, detail))
        elif erased(subscriber.email):
            result.skipped.append(Skipped(subscriber.line, subscriber.email, SUPPRESSED, "erased on request"))
        elif (entry := suppressed.get(subscriber.email.lower())) is not None:
            detail = f"{entry.reason} ({entry.source}, {entry.created_at[:10]})"
            result.skipped.append(Skipped(subscriber.line, subscriber.email, SUPPRESSED, detail))
        else:
            result.subscribers.append(subscriber)
    return result
