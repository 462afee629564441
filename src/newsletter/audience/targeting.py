"""Who of the audience an issue goes to: the issue's segment, `--ward`/`--tag`, suppressions.

The issue's `audience: {wards: [...], tags: [...]}` selects anyone in one of the wards OR with
one of the tags. `--ward` and `--tag` narrow further: each one given must also match (a ward
among the `--ward`s, a tag among the `--tag`s). Names compare case- and space-insensitively.
A name that matches nobody in the list is an error naming the file, line and field, because a
typo would otherwise quietly leave a whole ward out; the same holds for the wards an article
is limited to (`wards:` in an issue's article entry, editions.py), where a typo would give that
ward's readers only the edition for everyone. Every address left out stays in the audience's
report with its reason, so the dry run and the confirmation prompt can say why.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from newsletter.audience.csvfile import Audience
from newsletter.audience.people import Skipped, Subscriber
from newsletter.content.editions import tidy, ward_key
from newsletter.content.issue import Issue
from newsletter.errors import InputError
from newsletter.gates.text import shown
from newsletter.store import Location
from newsletter.store.suppressions import erased_checker, suppressed_addresses

NOT_IN_SEGMENT = "not in segment"
SUPPRESSED = "suppressed"
AUDIENCE_KEYS = ("wards", "tags")
KNOWN_SHOWN = 12  # names listed when none is close to a misspelt one


def norm(name: str) -> str:
    """Ward and tag names compare as edition wards do: case- and space-insensitively."""
    return ward_key(name)


@dataclass(frozen=True)
class Name:
    """A ward or tag name a send relies on, as written, and where it was written (for the error)."""

    kind: str  # "ward" or "tag"
    written: str
    field: str  # `path:line: audience wards`, `path:line: article 'x' wards`, `--ward`


@dataclass(frozen=True)
class Segment:
    """Ward and tag names (normalised) and where they came from, for messages."""

    wards: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    origin: str = ""
    names: tuple[Name, ...] = ()  # as written, for the error about a name nobody has

    def __bool__(self) -> bool:
        return bool(self.wards or self.tags)

    def describe(self) -> str:
        parts = []
        if self.wards:
            parts.append("ward " + " or ".join(sorted(self.wards)))
        if self.tags:
            parts.append("tag " + " or ".join(sorted(self.tags)))
        return ", ".join(parts)


def _names(value: Any, at: str, key: str) -> tuple[str, ...]:
    """The names of an audience key as written (spaces tidied)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise InputError(f"{at}: audience '{key}' must be a list of names, like [Heatons North, Reddish South]")
    return tuple(map(tidy, items))


def issue_segment(issue: Issue) -> Segment:
    """Validate the issue's `audience:` mapping into a Segment (empty: everyone)."""
    raw = issue.audience
    if raw is None:
        return Segment()
    at = issue.audience_at or str(issue.path)
    unknown = sorted(str(k) for k in raw if k not in AUDIENCE_KEYS)
    if unknown:
        raise InputError(f"{at}: unknown key '{unknown[0]}' under audience (known: wards, tags)")
    wards, tags = _names(raw.get("wards", []), at, "wards"), _names(raw.get("tags", []), at, "tags")
    segment = Segment(
        frozenset(map(norm, wards)),
        frozenset(map(norm, tags)),
        at,
        tuple(Name("ward", w, f"{at}: audience wards") for w in wards)
        + tuple(Name("tag", t, f"{at}: audience tags") for t in tags),
    )
    if not segment:
        raise InputError(f"{at}: 'audience' names no wards or tags (leave it out to send to everyone)")
    return segment


def suggestion(name: str, known: Iterable[str], holder: str = "the list") -> str:
    """The closest known name, or the known names themselves (`holder` has them) when none is close."""
    spelled = {norm(k): k for k in sorted(known) if k.strip()}
    close = difflib.get_close_matches(norm(name), list(spelled), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{spelled[close[0]]}'?"
    names = sorted(spelled.values())
    more = len(names) - KNOWN_SHOWN
    listed = ", ".join(names[:KNOWN_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return f" ({holder} has: {listed})" if names else f" ({holder} has none)"


def check_names(names: Iterable[Name], wards: Iterable[str], tags: Iterable[str]) -> None:
    """A ward or tag that nobody in the list has is an error naming the file and field: a typo
    would otherwise send that ward's readers nothing (or only the edition for everyone)."""
    # Tags compare as the matching does: the issue's normalised, the list's as stored (lower case).
    known = {"ward": {norm(w): w for w in wards}, "tag": {t: t for t in tags}}
    for name in names:
        if norm(name.written) not in known[name.kind]:
            raise InputError(
                f"{name.field}: {shown(name.written)} matches nobody in the subscriber list"
                f"{suggestion(name.written, known[name.kind].values())}"
            )


def known_ward(field: str, given: str, wards: Sequence[str], setting: str) -> str:
    """`given` as `setting` spells it, when that setting lists the wards: a ward set by hand that
    no ward in the list matches would put the person in no ward's edition, without a word.
    An empty `given` (no ward) and an empty list (the office lists none) pass unchanged."""
    if not given or not wards:
        return given
    spelled = {norm(w): w for w in wards}
    if norm(given) in spelled:
        return spelled[norm(given)]
    raise InputError(f"{field}: {shown(given)} is not one of {setting}{suggestion(given, wards, setting)}")


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
    """The issue's segment and the `--ward`/`--tag` filter, applied one subscriber at a time, and
    every ward and tag name the send relies on (its segment's, its editions', the filter's)."""

    from_issue: Segment
    from_cli: Segment
    editions: tuple[Name, ...] = ()

    @property
    def names(self) -> tuple[Name, ...]:
        return self.from_issue.names + self.editions + self.from_cli.names

    def asks_for(self, kind: str) -> bool:
        """Whether any ward (or tag) name needs checking against the list."""
        return any(name.kind == kind for name in self.names)

    def check_names(self, wards: Iterable[str], tags: Iterable[str]) -> None:
        check_names(self.names, wards, tags)

    def left_out(self, subscriber: Subscriber) -> str | None:
        """Why a subscriber is not in this send's segment, or None when they are."""
        if self.from_issue and not _in_issue_segment(subscriber, self.from_issue):
            return f"{_where(subscriber)}; the issue targets {self.from_issue.describe()}"
        if self.from_cli and not _in_cli_filter(subscriber, self.from_cli):
            return f"{_where(subscriber)}; --ward/--tag asks for {self.from_cli.describe()}"
        return None


def edition_names(issue: Issue) -> tuple[Name, ...]:
    """The wards the issue's articles are limited to: a reader in a ward misspelt here would get
    the edition for everyone."""
    return tuple(
        Name("ward", ward, f"{issue.wards_at.get(slug, issue.path)}: article '{slug}' wards")
        for slug, wards in issue.wards.items()
        for ward in wards
    )


def targeting(issue: Issue, wards: Sequence[str] = (), tags: Sequence[str] = ()) -> Targeting:
    wards = [tidy(w) for w in wards if w.strip()]
    tags = [tidy(t) for t in tags if t.strip()]
    cli = Segment(
        frozenset(map(norm, wards)),
        frozenset(map(norm, tags)),
        "--ward/--tag",
        tuple(Name("ward", w, "--ward") for w in wards) + tuple(Name("tag", t, "--tag") for t in tags),
    )
    return Targeting(issue_segment(issue), cli, edition_names(issue))


def target(
    audience: Audience,
    issue: Issue,
    *,
    wards: Sequence[str] = (),
    tags: Sequence[str] = (),
    journal_path: Location | None = None,
) -> Audience:
    """A new Audience: this issue's recipients, with everyone left out added to `skipped`."""
    chosen = targeting(issue, wards, tags)
    chosen.check_names({s.ward for s in audience.subscribers}, {t for s in audience.subscribers for t in s.tags})
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
