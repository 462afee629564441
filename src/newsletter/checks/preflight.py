"""Findings about an issue before it is sent, shared by `newsletter check` and the preview."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from newsletter.checks import accessibility
from newsletter.checks import images as image_checks
from newsletter.checks import links as linkcheck
from newsletter.checks.findings import Finding
from newsletter.checks.placeholders import placeholder_findings
from newsletter.content.issue import MissingArticles
from newsletter.content.render import PLACEHOLDERS, RenderedIssue
from newsletter.mail.compose import Composed
from newsletter.mail.message import SAMPLE

KB = 1024
SIZE_WARNING = 90 * KB
SIZE_ERROR = 102 * KB  # Gmail clips the HTML part at about 102 KB and hides the rest
SUBJECT_MAX = 78
PREHEADER_MAX = 140
TEXT_WIDTH = 78


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and dict(attrs).get("href") is not None:
            self.links.append(dict(attrs)["href"] or "")


def missing_article_findings(error: MissingArticles) -> list[Finding]:
    return [Finding("error", "unknown-article", message) for _slug, message in error.missing]


def html_size(composed: Composed) -> int:
    """Bytes of the HTML part as a recipient gets it (before transfer encoding)."""
    html, _ = composed.personalise(SAMPLE)
    return len(html.encode("utf-8"))


@dataclass(frozen=True)
class LinkCheck:
    """`check --links`: fetch every link and image (see links.py)."""

    concurrency: int = linkcheck.CONCURRENCY
    timeout: float = linkcheck.TIMEOUT


def run_checks(
    composed: Composed, links: LinkCheck | None = None, published: image_checks.PublishCheck | None = None
) -> list[Finding]:
    """Every finding for a composed issue, errors first; with `links`, also what fetching them found;
    with `published` (`check`, not the preview: it asks the web server), whether the project's
    pictures answer at their URLs under the archive (checks/images.py).

    Every ward edition is checked too; a finding in a ward edition that the edition for everyone
    does not have is named with the edition's wards.
    """
    issue = composed.issue
    budget = image_checks.image_budget(composed.settings.env)  # a bad value stops before any request
    values = composed.values_for(SAMPLE)
    everyone = composed.editions[0]
    found = _edition_findings(everyone.rendered, values)
    seen = {f.message for f in found}
    for edition in composed.editions[1:]:
        for finding in _edition_findings(edition.rendered, values):
            if finding.message not in seen:
                seen.add(finding.message)
                where = f"edition for {edition.edition.label}: "
                found.append(Finding(finding.level, finding.code, where + finding.message))
    archive_url = composed.settings.archive_url
    pictures = image_checks.used_pictures(composed)
    asked = published is not None and image_checks.can_be_published(archive_url)
    if published is not None and asked:
        found += image_checks.published_findings(pictures, archive_url, published)
    if links is not None:
        targets: dict[str, linkcheck.Target] = {}
        for edition in composed.editions:  # every edition's links, each fetched once
            html, text = edition.rendered.personalise(values)
            for target in linkcheck.targets(html, text):
                targets.setdefault(target.url, target)
        for picture in pictures if asked else ():  # asked above, with the way to publish them
            targets.pop(picture.url(archive_url), None)
        found += linkcheck.check_links(targets.values(), concurrency=links.concurrency, timeout=links.timeout)
    found += image_checks.weight_findings(composed, budget)
    found += image_checks.alt_findings(issue.all_articles)
    found += placeholder_findings(issue)
    if not issue.preheader:
        found.append(
            Finding(
                "warning", "preheader", f"{issue.path}: the preheader is empty (inboxes show the first text instead)"
            )
        )
    elif len(issue.preheader) > PREHEADER_MAX:
        found.append(
            Finding(
                "warning",
                "preheader",
                f"{issue.path}: the preheader is {len(issue.preheader)} characters; inboxes show about {PREHEADER_MAX}",
            )
        )
    if len(issue.subject) > SUBJECT_MAX:
        found.append(
            Finding(
                "warning",
                "subject",
                f"{issue.path}: the subject is {len(issue.subject)} characters (over {SUBJECT_MAX})",
            )
        )
    if not composed.settings.postal_address:
        found.append(
            Finding(
                "error",
                "postal-address",
                "NEWSLETTER_POSTAL_ADDRESS is empty: bulk mail must carry the sender's address",
            )
        )
    return sorted(found, key=lambda f: f.level != "error")


def _edition_findings(rendered: RenderedIssue, values: dict[str, str]) -> list[Finding]:
    """What one rendered edition shows: size, unsubscribe link, links, accessibility, text width."""
    found: list[Finding] = []
    sample_html = rendered.personalise(values)[0]
    size = len(sample_html.encode("utf-8"))
    if size >= SIZE_ERROR:
        found.append(Finding("error", "html-size", f"HTML is {size / KB:.1f} KB: Gmail clips messages over 102 KB"))
    elif size >= SIZE_WARNING:
        found.append(Finding("warning", "html-size", f"HTML is {size / KB:.1f} KB: close to Gmail's 102 KB clipping"))
    unsubscribe = PLACEHOLDERS["unsubscribe_url"]
    if unsubscribe not in rendered.html:
        found.append(Finding("error", "unsubscribe", "the HTML part has no unsubscribe link"))
    if unsubscribe not in rendered.text:
        found.append(Finding("error", "unsubscribe", "the plain-text part has no unsubscribe URL"))
    parser = _Links()
    parser.feed(sample_html)
    for href in parser.links:
        if not href.startswith(("https://", "http://", "mailto:")):
            found.append(Finding("error", "link", f"link {href[:80]!r} is not an http(s) or mailto link"))
        elif href.startswith("http://"):
            found.append(Finding("warning", "link", f"link {href[:80]!r} is not https"))
        if linkcheck.is_shortener(href):
            found.append(
                Finding(
                    "warning",
                    "link-shortener",
                    f"link {href[:80]!r} is a URL shortener: readers cannot see "
                    "where it goes, and spam filters distrust them",
                )
            )
    found += accessibility.audit(sample_html)
    for number, line in enumerate(rendered.text.splitlines(), start=1):
        if len(line) > TEXT_WIDTH and " " in line.strip():
            found.append(
                Finding("warning", "text-width", f"plain text line {number} is {len(line)} columns (over {TEXT_WIDTH})")
            )
    return found


def has_errors(findings: list[Finding]) -> bool:
    return any(f.level == "error" for f in findings)
