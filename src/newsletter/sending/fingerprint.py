"""What will go out, as hashes: the fingerprint an approval is bound to, and what changed since.

The fingerprint's `digest` is a SHA-256 over what the readers would get: every edition's built
HTML and text (the templates' output before a reader's name is spliced in), the subject, the
audience's size and the segment. Whatever changes the output (a word of an article, a template,
a setting such as the postal address, a picture) changes the digest, and an approval of the old
digest no longer holds; an edit that changes nothing readers see (a comment in a template, a
line break in a Markdown paragraph) leaves it whole.

`parts` hash each input on its own (each edition's HTML and text, the issue file, every
article's source file and picture, every file of the templates folder, the subject, the
audience's size, the segment), so a refused send can say *what* changed:
"articles/foo.md changed", "the audience grew from 120 to 131". Nothing in a fingerprint names
a reader: it is kept in the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.mail.compose import Composed

EDITION = "edition for "  # parts "edition for <label>: html" and "edition for <label>: text"
SUBJECT, AUDIENCE, SEGMENT = "subject", "audience", "segment"


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """What one send would put in readers' inboxes, hashed (see the module docstring)."""

    digest: str
    parts: dict[str, str]
    subject: str
    editions: tuple[str, ...]  # each edition's label: "everyone", "Heatons North, Heatons South"
    audience: int
    segment: str

    def details(self) -> dict[str, Any]:
        """The fingerprint as an audit entry's details (JSON)."""
        return {
            "fingerprint": self.digest,
            "parts": dict(sorted(self.parts.items())),
            "subject": self.subject,
            "editions": list(self.editions),
            "audience": self.audience,
            "segment": self.segment,
        }

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> Fingerprint:
        """Read back from an entry; a field missing from an old or damaged entry reads as empty,
        which never matches a fingerprint of today's send."""
        parts = details.get("parts")
        return cls(
            digest=str(details.get("fingerprint", "")),
            parts={str(k): str(v) for k, v in parts.items()} if isinstance(parts, dict) else {},
            subject=str(details.get("subject", "")),
            editions=tuple(str(e) for e in details.get("editions", ()) or ()),
            audience=int(details.get("audience", -1)) if str(details.get("audience", "")).isdigit() else -1,
            segment=str(details.get("segment", "")),
        )


def fingerprint(composed: Composed, audience: int, segment: str) -> Fingerprint:
    """The fingerprint of a send of `composed` to `audience` readers of `segment`."""
    root = composed.issue.project.root
    output: dict[str, Any] = {}
    parts: dict[str, str] = {}
    for edition in composed.editions:
        label = edition.edition.label
        html, text = sha256(edition.rendered.html), sha256(edition.rendered.text)
        output[edition.edition.key] = [html, text, edition.rendered.subject]
        parts[f"{EDITION}{label}: html"] = html
        parts[f"{EDITION}{label}: text"] = text
    for path in _sources(composed):
        parts[_shown(path, root)] = _file_hash(path)
    parts[SUBJECT] = sha256(composed.rendered.subject)
    parts[AUDIENCE] = str(audience)
    parts[SEGMENT] = segment
    whole = {"editions": output, "subject": composed.rendered.subject, "audience": audience, "segment": segment}
    digest = sha256(json.dumps(whole, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    labels = tuple(e.edition.label for e in composed.editions)
    return Fingerprint(digest, parts, composed.rendered.subject, labels, audience, segment)


def _sources(composed: Composed) -> list[Path]:
    """The files the output is made from: the issue file, its articles and their pictures, and
    every file of the templates folder (a partial included by another template counts too)."""
    issue = composed.issue
    found: dict[Path, None] = {issue.path: None}
    for edition in composed.editions:
        for article in edition.edition.issue.all_articles:
            found[article.path] = None
            if article.image_file is not None:
                found[article.image_file] = None
    templates = issue.project.templates_dir
    if templates.is_dir():
        found.update(dict.fromkeys(sorted(p for p in templates.rglob("*") if p.is_file())))
    return list(found)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _file_hash(path: Path) -> str:
    try:
        return sha256(path.read_bytes())
    except OSError:
        return "unreadable"


def changes(approved: Fingerprint, now: Fingerprint) -> list[str]:
    """What differs between an approved fingerprint and today's, most telling first: the files
    that changed, then the subject and the audience; the editions' output only when no file
    explains it (a setting or a picture fetched by URL)."""
    found = [*_file_changes(approved.parts, now.parts)]
    if approved.subject != now.subject:
        found.append(f"the subject changed from {approved.subject!r} to {now.subject!r}")
    if approved.audience != now.audience:
        moved = "grew" if now.audience > approved.audience else "shrank"
        found.append(f"the audience {moved} from {approved.audience:,} to {now.audience:,}")
    if approved.segment != now.segment:
        found.append(f"the segment changed from {approved.segment!r} to {now.segment!r}")
    if not found:
        found = [f"the {name} changed" for name in _output_changes(approved.parts, now.parts)]
        if found:
            found[-1] += " (a setting or a template's output)"
    return found or ["what would go out changed"]


def _is_file(name: str) -> bool:
    return name not in (SUBJECT, AUDIENCE, SEGMENT) and not name.startswith(EDITION)


def _file_changes(before: Mapping[str, str], after: Mapping[str, str]) -> Iterable[str]:
    old = {k for k in before if _is_file(k)}
    new = {k for k in after if _is_file(k)}
    for name in sorted(old & new):
        if before[name] != after[name]:
            yield f"{name} changed"
    for name in sorted(new - old):
        yield f"{name} was added"
    for name in sorted(old - new):
        yield f"{name} is no longer used"


def _output_changes(before: Mapping[str, str], after: Mapping[str, str]) -> Iterable[str]:
    names = sorted(k for k in set(before) | set(after) if k.startswith(EDITION))
    for name in names:
        if before.get(name) != after.get(name):
            yield name.replace(": html", "'s HTML").replace(": text", "'s plain text")
