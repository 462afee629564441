"""`newsletter archive`: the static site of sent issues, its Atom feed, sitemap and pages.

Which issues were sent is the database's to say: the tests that read it (the command, the feed,
an empty list, a real send beside a test send) run on SQLite and PostgreSQL (`both`). The rest
are about the pages (bytes, links, the golden file, axe in Chromium) and keep the SQLite file.
"""

from __future__ import annotations

import html
import os
import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from newsletter.publish.archive import build_archive
from newsletter.publish.atom import stable_id
from newsletter.publish.sent import sent_issues
from newsletter.settings import load_settings
from newsletter.store import Location, exists
from newsletter.store.journal import SENT, Journal
from tests.conftest import REPO, Run
from tests.support.axe import axe_violations, describe
from tests.support.site import broken_links

BASE = "https://www.example.org/newsletter/"
GOLDEN = REPO / "tests" / "golden" / "archive-index.html"
JOURNAL = Path(".newsletter/journal.sqlite3")
HIDDEN_STYLE = r"display:\s*none|mso-hide:\s*all|visibility:\s*hidden"
FILLER = set("\u034f\u200b\u200c\u200d\u2060\ufeff")  # what pads a preheader in the inbox list
SUBJECTS = {
    "spring-2018": "Stockport update: inquiry into 'sent away' children",
    "early-2019": "Stockport update: my decision, and what has not changed",
    "november-2019": "Stockport update: thank you, and goodbye",
}


def record_sent(journal_path: Location, issue: str, *emails: str) -> None:
    """What a real send leaves in the journal: recipients marked sending, then sent."""
    with Journal(journal_path) as journal:
        journal.prepare(issue, emails, [("nobody@example.org", "no consent")])
        for address in emails:
            journal.mark_sending(issue, address, f"<{issue}.{address}>")
            journal.settle(issue, address, SENT, "250 ok")


both = pytest.mark.usefixtures("on_each_backend")


@pytest.fixture
def journal(project: Path, request: pytest.FixtureRequest) -> Location:
    """The test's PostgreSQL database for a test marked `both` on that backend, else the file."""
    if "on_each_backend" in request.fixturenames and isinstance(url := request.getfixturevalue("on_each_backend"), str):
        return url
    return project / JOURNAL


@pytest.fixture
def sent_two(project: Path, journal: Location) -> Path:
    """The example project with spring-2018 and early-2019 sent; november-2019 is a draft."""
    record_sent(journal, "spring-2018", "a@example.org", "b@example.org")
    record_sent(journal, "early-2019", "a@example.org")
    return project


@both
def test_the_site_has_a_page_per_sent_issue_an_index_feed_and_sitemap(sent_two: Path, run_cli: Run) -> None:
    result = run_cli("archive", "--out", "site")
    assert result.returncode == 0, result.stderr
    site = sent_two / "site"
    assert sorted(p.name for p in site.iterdir()) == [
        ".newsletter-archive",
        "early-2019.html",
        "feed.xml",
        "images",  # the project's pictures the pages show (content/images.py)
        "index.html",
        "sitemap.xml",
        "spring-2018.html",
    ]
    assert "2 issue(s)" in result.stdout and f"{BASE}feed.xml" in result.stdout
    for path in [*site.iterdir(), *(site / "images").iterdir()]:
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, f"{path.name} must be world-readable for the web server"
    index = html.unescape((site / "index.html").read_text(encoding="utf-8"))
    assert index.index(SUBJECTS["early-2019"]) < index.index(SUBJECTS["spring-2018"]), "newest first"
    assert '<link rel="alternate" type="application/atom+xml"' in index and 'href="feed.xml"' in index
    assert "<script" not in index
    page = (site / "spring-2018.html").read_text(encoding="utf-8")
    assert "NLPH" not in page and "token=" not in page and "a@example.org" not in page
    assert 'href="index.html"' in page and 'rel="canonical"' in page


@both
def test_the_feed_parses_with_the_sent_issues_as_entries(sent_two: Path, journal: Location) -> None:
    config = load_settings({})
    build_archive(sent_two, config, sent_issues(journal), sent_two / "site")
    feed = feedparser.parse((sent_two / "site" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Ann Coffey MP: newsletter"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [f"{BASE}feed.xml"]
    assert [e.title for e in feed.entries] == [SUBJECTS["early-2019"], SUBJECTS["spring-2018"]]
    assert [e.link for e in feed.entries] == [f"{BASE}early-2019.html", f"{BASE}spring-2018.html"]
    assert [e.id for e in feed.entries] == [
        stable_id(config.list_id, "early-2019"),
        stable_id(config.list_id, "spring-2018"),
    ]
    spring = feed.entries[1]
    assert spring.summary.startswith("Why children placed far from home go missing")
    assert spring.content[0].type == "text/html"
    assert "Parliamentary inquiry into" in spring.content[0].value, "the entry carries the issue's HTML"
    assert spring.updated_parsed.tm_year >= 2024, "the entry is updated by its send, from the journal"
    assert tuple(spring.published_parsed)[:3] == (2018, 4, 6), "and published on the issue's own date"


def test_feed_entries_hold_no_hidden_text_and_are_published_on_the_issue_date(sent_two: Path) -> None:
    """Feed readers drop inline styles: the email's hidden preheader and its zero-width filler
    would show as stray text at the top of every entry."""
    build_archive(sent_two, load_settings({}), sent_issues(sent_two / JOURNAL), sent_two / "site")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = ET.parse(sent_two / "site" / "feed.xml").getroot().findall("a:entry", ns)
    dates = {}
    for entry in entries:
        slug = Path(entry.find("a:link", ns).get("href", "")).stem  # type: ignore[union-attr]
        content = entry.findtext("a:content", "", ns)
        assert len(content) > 5000, f"{slug}: the entry carries the issue's HTML"
        assert "nl-preheader" not in content and not re.search(HIDDEN_STYLE, content, re.I), slug
        assert not set(content) & FILLER, f"{slug}: zero-width filler in the entry"
        published, updated = entry.findtext("a:published", "", ns), entry.findtext("a:updated", "", ns)
        assert updated >= published and updated[:4] >= "2024", "updated is the send, after the issue's date"
        dates[slug] = published
    assert dates == {"early-2019": "2019-03-08T00:00:00Z", "spring-2018": "2018-04-06T00:00:00Z"}


def test_ids_stay_when_the_archive_moves_and_differ_between_issues() -> None:
    assert stable_id("<a.example.org>", "x") == stable_id("<a.example.org>", "x")
    assert stable_id("<a.example.org>", "x") != stable_id("<a.example.org>", "y")
    assert stable_id("<a.example.org>", "x") != stable_id("<b.example.org>", "x")


def test_every_link_between_pages_resolves(sent_two: Path) -> None:
    site = sent_two / "site"
    build_archive(sent_two, load_settings({}), sent_issues(sent_two / JOURNAL), site, include_unsent=True)
    broken, checked = broken_links(site, BASE)
    assert not broken
    assert checked >= 20, "the index, pages, feed and sitemap link to each other"
    (site / "early-2019.html").unlink()
    broken, _ = broken_links(site, BASE)
    assert "index.html: early-2019.html" in broken and f"sitemap.xml: {BASE}early-2019.html" in broken


def test_the_index_matches_the_reviewed_golden_file(sent_two: Path) -> None:
    """UPDATE_GOLDEN=1 rewrites it after a reviewed change."""
    build_archive(sent_two, load_settings({}), sent_issues(sent_two / JOURNAL), sent_two / "site", include_unsent=True)
    index = (sent_two / "site" / "index.html").read_text(encoding="utf-8")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(index, encoding="utf-8")
    assert index == GOLDEN.read_text(encoding="utf-8"), "the index differs; review and run with UPDATE_GOLDEN=1"


def test_the_same_inputs_give_the_same_bytes_and_rebuilds_touch_nothing(sent_two: Path) -> None:
    config, sent = load_settings({}), sent_issues(sent_two / JOURNAL)
    first = build_archive(sent_two, config, sent, sent_two / "one")
    build_archive(sent_two, config, sent, sent_two / "two")
    for path in first.written:
        name = path.relative_to(sent_two / "one")
        assert path.read_bytes() == (sent_two / "two" / name).read_bytes(), name
    again = build_archive(sent_two, config, sent, sent_two / "one")
    assert again.written == [] and len(again.unchanged) == 5 + 4 and again.removed == []  # 5 files, 4 pictures
    record_sent(sent_two / JOURNAL, "november-2019", "a@example.org")
    third = build_archive(sent_two, config, sent_issues(sent_two / JOURNAL), sent_two / "one")
    pages = sorted(p.name for p in third.written if p.parent.name != "images")
    assert pages == ["feed.xml", "index.html", "november-2019.html", "sitemap.xml"]
    assert len([p for p in third.written if p.parent.name == "images"]) == 2  # november's own pictures
    assert not list((sent_two / "one").glob(".*.tmp"))


def test_unsent_issues_only_with_the_flag_and_a_sent_issue_without_its_file_is_reported(
    sent_two: Path, run_cli: Run
) -> None:
    (sent_two / "issues" / "early-2019.yaml").unlink()
    result = run_cli("archive", "--out", "site", "--include-unsent")
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (sent_two / "site").iterdir()}
    assert "november-2019.html" in names and "early-2019.html" not in names
    assert "early-2019 was sent but issues/early-2019.yaml is gone" in result.stdout


@both
def test_nothing_sent_gives_an_empty_archive_and_says_so(project: Path, run_cli: Run, journal: Location) -> None:
    result = run_cli("archive")
    assert result.returncode == 0, result.stderr
    assert "No issue has been sent yet" in result.stdout
    assert "No newsletters have been published yet." in (project / "archive" / "index.html").read_text()
    # The project's database would be .newsletter/newsletter.sqlite3 (JOURNAL is the older name):
    # no database of either name, nor the folder, may appear.
    assert not (project / ".newsletter").exists(), "building the archive must not create the database"
    assert not exists(journal)


@both
def test_a_real_send_to_the_outbox_puts_the_issue_in_the_archive(project: Path, run_cli: Run) -> None:
    sent = run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes")
    assert sent.returncode == 0, sent.stderr
    test_send = run_cli("send", "november-2019", "--to", "me@example.org", "--yes")
    assert test_send.returncode == 0, test_send.stderr
    result = run_cli("archive")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (project / "archive").glob("*-*.html")) == ["early-2019.html"], (
        "a test send (--to) does not publish an issue"
    )


def test_build_writes_world_readable_files(project: Path, run_cli: Run) -> None:
    result = run_cli("build", "spring-2018", "--out", "built")
    assert result.returncode == 0, result.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (project / "built").iterdir()}
    assert modes == {"spring-2018.html": 0o644, "spring-2018.txt": 0o644, "spring-2018.eml": 0o644}


@pytest.mark.parametrize("page", ["index.html", "spring-2018.html"])
def test_pages_pass_axe_and_fit_a_phone(sent_two: Path, chromium: object, page: str) -> None:
    build_archive(sent_two, load_settings({}), sent_issues(sent_two / JOURNAL), sent_two / "site")
    context = chromium.new_context(
        bypass_csp=True,
        viewport={"width": 375, "height": 800},  # type: ignore[attr-defined]
        java_script_enabled=True,
    )
    try:
        tab = context.new_page()
        tab.goto((sent_two / "site" / page).as_uri())
        violations = axe_violations(tab)
        assert not violations, describe(violations)
        scroll, width = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= width, f"{page} scrolls sideways at 375 px ({scroll} > {width})"
    finally:
        context.close()


def test_a_preview_of_drafts_is_cleared_by_the_next_real_build(sent_two: Path, run_cli: Run) -> None:
    """Pages of an --include-unsent preview must not stay in the folder to be uploaded."""
    site = sent_two / "site"
    site.mkdir()
    (site / "about.html").write_text("<p>The office's own page</p>")
    assert run_cli("archive", "--out", "site", "--include-unsent").returncode == 0
    assert (site / "november-2019.html").is_file()
    (site / ".newsletter-archive").write_text(
        (site / ".newsletter-archive").read_text() + "../outside.html\nabout.html.bak\n"
    )
    result = run_cli("archive", "--out", "site")
    assert result.returncode == 0, result.stderr
    assert "removed site/november-2019.html: no longer published" in result.stdout
    assert not (site / "november-2019.html").exists()
    assert (site / "about.html").is_file(), "files the archive did not write are left alone"
    assert "november-2019" not in (site / "index.html").read_text()
