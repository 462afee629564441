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
from newsletter.store.suppressions import suppressed_addresses

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


def _check_known(segment: Segment, subscribers: Iterable[Subscriber], what: str) -> None:
    people = list(subscribers)
    wards = {norm(s.ward) for s in people}
    tags = {t for s in people for t in s.tags}
    for kind, asked, known in (("ward", segment.wards, wards), ("tag", segment.tags, tags)):
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


def target(
    audience: Audience,
    issue: Issue,
    *,
    wards: Sequence[str] = (),
    tags: Sequence[str] = (),
    journal_path: Path | None = None,
) -> Audience:
    """A new Audience: this issue's recipients, with everyone left out added to `skipped`."""
    from_issue = issue_segment(issue)
    from_cli = Segment(frozenset(norm(w) for w in wards if w.strip()), frozenset(norm(t) for t in tags if t.strip()),
                       "--ward/--tag")
    if from_issue:
        _check_known(from_issue, audience.subscribers, from_issue.origin)
    if from_cli:
        _check_known(from_cli, audience.subscribers, "--ward/--tag")
    suppressed = suppressed_addresses(journal_path) if journal_path is not None else {}
    result = Audience(audience.path, [], list(audience.skipped), audience.rows)
    for subscriber in audience.subscribers:
        if from_issue and not _in_issue_segment(subscriber, from_issue):
            detail = f"{_where(subscriber)}; the issue targets {from_issue.describe()}"
            result.skipped.append(Skipped(subscriber.line, subscriber.email, NOT_IN_SEGMENT, detail))
        elif from_cli and not _in_cli_filter(subscriber, from_cli):
            detail = f"{_where(subscriber)}; --ward/--tag asks for {from_cli.describe()}"
            result.skipped.append(Skipped(subscriber.line, subscriber.email, NOT_IN_SEGMENT, detail))
        elif (entry := suppressed.get(subscriber.email.lower())) is not None:
            detail = f"{entry.reason} ({entry.source}, {entry.created_at[:10]})"
            result.skipped.append(Skipped(subscriber.line, subscriber.email, SUPPRESSED, detail))
        else:
            result.subscribers.append(subscriber)
    return result
