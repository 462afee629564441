"""`newsletter archive`: the static site of sent issues, ready for any static web host.

One page per issue (the web copy: no reader's name, address or token), an index newest
first, an Atom feed and a sitemap. A sent issue is shown as its send's snapshot kept it
(store/snapshots.py), so later edits to articles, templates or settings never rewrite what
constituents were sent; only issues sent before snapshots existed are composed again.
The same inputs give the same bytes: nothing depends on the clock or on the order files
happen to be listed in. Files are replaced atomically and left world-readable, and a file
whose bytes have not changed is not rewritten (uploads that compare times, such as rsync,
then send only what changed).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.content.render import Renderer
from newsletter.errors import DeliveryError
from newsletter.fileio import PUBLIC, write_atomic
from newsletter.mail.compose import compose
from newsletter.mail.webcopy import web_copy
from newsletter.publish import atom, site
from newsletter.publish.sitemap import sitemap_xml
from newsletter.settings import Settings
from newsletter.store.snapshots import Snapshot

MANIFEST = ".newsletter-archive"  # the files the last build wrote, one name a line
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.(html|xml)$")


@dataclass(frozen=True)
class ArchivedIssue:
    """One issue as the archive lists it."""

    slug: str
    subject: str
    preheader: str
    date: dt.date
    date_text: str
    sent_at: str | None
    html: str
    # Ward editions (editions.py): (file stem `<slug>.<key>`, wards, web copy). The index, feed and
    # sitemap show the edition for everyone; each ward edition's page is where its messages link.
    editions: tuple[tuple[str, str, str], ...] = ()


@dataclass
class ArchiveReport:
    """What `build_archive` did: the issues it published and each file written or kept."""

    out_dir: Path
    issues: list[ArchivedIssue] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # pages of an earlier build no longer published
    missing: list[str] = field(default_factory=list)  # sent according to the journal, but no issue file
    rerendered: list[str] = field(default_factory=list)  # sent, but no snapshot: composed from today's files


def rfc3339(stamp: str) -> str:
    """A journal timestamp (ISO 8601 with an offset) as RFC 3339 UTC to the second."""
    moment = dt.datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(date: dt.date) -> str:
    """An issue's date as an RFC 3339 timestamp: its first second, UTC."""
    return f"{date.isoformat()}T00:00:00Z"


def collect(
    root: Path,
    settings: Settings,
    sent: Mapping[str, str],
    *,
    include_unsent: bool,
    snapshots: Mapping[str, Snapshot] | None = None,
) -> tuple[list[ArchivedIssue], list[str]]:
    """Every sent issue (or every one), newest first, and the sent ones re-rendered for want of
    a snapshot.

    A sent issue with a snapshot is shown as it was sent, even if its files were edited or
    deleted since; one sent by a release that kept no snapshot, and every unsent preview, is
    composed from today's files.
    """
    snapshots = snapshots or {}
    renderer = Renderer(root / "templates")
    found = [_from_snapshot(snapshots[slug], sent[slug]) for slug in sorted(set(sent) & set(snapshots))]
    rerendered = []
    for path in sorted((root / "issues").glob("*.yaml")):
        if (path.stem in snapshots and path.stem in sent) or (path.stem not in sent and not include_unsent):
            continue
        copy = web_copy(compose(path, settings, renderer))
        if copy.issue in sent:
            rerendered.append(copy.issue)
        found.append(_from_snapshot(copy, sent.get(copy.issue)))
    found.sort(key=lambda i: (i.date, i.sent_at or "", i.slug), reverse=True)
    return found, rerendered


def _from_snapshot(copy: Snapshot, sent_at: str | None) -> ArchivedIssue:
    editions = tuple((e.stem, e.label, e.html) for e in copy.editions)
    return ArchivedIssue(
        copy.issue,
        copy.subject,
        copy.preheader,
        dt.date.fromisoformat(copy.issue_date),
        copy.date_text,
        sent_at,
        copy.html,
        editions,
    )


def render_site(settings: Settings, issues: list[ArchivedIssue]) -> dict[str, bytes]:
    """File name -> bytes of every file of the site."""
    base = site.index_url(settings)
    files = {f"{i.slug}.html": site.issue_page(i.html, settings, i.slug) for i in issues}
    for i in issues:
        for stem, _wards, html in i.editions:
            files[f"{stem}.html"] = site.issue_page(html, settings, stem)
    files[site.INDEX] = site.index_page(settings, issues)
    info = atom.FeedInfo(
        title=site.feed_title(settings),
        subtitle=f"Member of Parliament for {settings.constituency}",
        list_id=settings.list_id,
        author=settings.representative,
        author_uri=settings.website,
        self_url=base + site.FEED,
        index_url=base,
    )
    entries = [
        atom.Entry(
            slug=i.slug,
            title=i.subject,
            summary=i.preheader,
            url=settings.view_online_url(i.slug),
            # the send, never before the issue's own date (`published`)
            updated=max(rfc3339(i.sent_at), day(i.date)) if i.sent_at else day(i.date),
            html=i.html,
            published=day(i.date),
        )
        for i in issues
    ]
    files[site.FEED] = atom.feed_xml(info, entries)
    newest = issues[0].date if issues else None
    pages = [(base, newest)] + [(settings.view_online_url(i.slug), i.date) for i in issues]
    files[site.SITEMAP] = sitemap_xml(pages)
    return files


def build_archive(
    root: Path,
    settings: Settings,
    sent: Mapping[str, str],
    out_dir: Path,
    *,
    include_unsent: bool = False,
    snapshots: Mapping[str, Snapshot] | None = None,
) -> ArchiveReport:
    """Build the site into `out_dir` (created if needed), replacing earlier builds in place.

    Pages an earlier build wrote that this one does not (a draft from an `--include-unsent`
    preview, an issue whose file was deleted) are removed, so they are not uploaded with the
    rest. Only files listed in the folder's manifest are ever removed: the folder may hold
    other files of the website.
    """
    issues, rerendered = collect(root, settings, sent, include_unsent=include_unsent, snapshots=snapshots)
    report = ArchiveReport(out_dir=out_dir, issues=issues, rerendered=rerendered)
    report.missing = sorted(set(sent) - {i.slug for i in issues})
    files = render_site(settings, issues)
    manifest = out_dir / MANIFEST
    try:
        for name, data in sorted(files.items()):
            path = out_dir / name
            if path.is_file() and path.read_bytes() == data:
                path.chmod(PUBLIC)
                report.unchanged.append(path)
                continue
            write_atomic(path, data, mode=PUBLIC)
            report.written.append(path)
        for name in sorted(_listed(manifest) - set(files)):
            (out_dir / name).unlink(missing_ok=True)
            report.removed.append(out_dir / name)
        write_atomic(manifest, "".join(f"{name}\n" for name in sorted(files)).encode(), mode=PUBLIC)
    except OSError as exc:
        raise DeliveryError(f"{out_dir}: cannot write the archive: {exc.strerror}") from exc
    return report


def _listed(manifest: Path) -> set[str]:
    """File names an earlier build wrote (plain names only: nothing outside the folder)."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    return {name for name in lines if SAFE_NAME.match(name)}
