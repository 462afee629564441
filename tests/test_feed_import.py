"""`newsletter import` against a real HTTP server on 127.0.0.1, and `newsletter new-issue`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from newsletter.content.articles import load_article, split_front_matter
from tests.conftest import Run
from tests.support.feed_server import FEEDS, closed_port, feed_server, silent_port

SITE = "https://www.example.org"


@pytest.fixture
def server(project: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """(base URL, the folder it serves the feeds from, requests seen): a copy the test may edit."""
    feeds = project.parent / "served"
    shutil.copytree(FEEDS, feeds)
    with feed_server(feeds) as (base, requests):
        yield base, feeds, requests


def front(path: Path) -> dict[str, object]:
    text, _body, _line = split_front_matter(path.read_text(encoding="utf-8"), path)
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def body(path: Path) -> str:
    return split_front_matter(path.read_text(encoding="utf-8"), path)[1]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.md"))}


def test_a_wordpress_feed_becomes_articles_that_load(
    project: Path, run_cli: Run, server: tuple[str, Path, list[str]]
) -> None:
    base, _feeds, _seen = server
    before = set(snapshot(project / "articles"))
    result = run_cli("import", f"{base}/feed/")
    assert result.returncode == 0, result.stderr
    new = set(snapshot(project / "articles")) - before
    # The example project already has sent-away-children-inquiry.md and childrens-homes-market.md
    # (other links): the import takes the next free name and never touches them.
    assert new == {
        "sent-away-children-inquiry-2.md",
        "county-lines-violence.md",
        "childrens-homes-market-2.md",
        "surgery-library.md",
    }
    assert re.search(r"skipped +item 4 'Draft: surgery dates for the spring': it has no http\(s\) link", result.stdout)
    assert "4 new, 1 skipped" in result.stdout
    for name in new:
        load_article(project / "articles" / name)  # the project's own loader accepts every one

    inquiry = project / "articles" / "sent-away-children-inquiry-2.md"
    meta = front(inquiry)
    assert meta["title"] == "Parliamentary inquiry into \u2018sent away\u2019 children"
    assert str(meta["date"]) == "2018-03-26"
    assert meta["url"] == f"{SITE}/2018/03/26/sent-away-children-inquiry/"
    assert meta["category"] == "Press release"
    assert meta["image"] == f"{SITE}/wp-content/uploads/2018/03/inquiry.jpg"
    assert meta["image_alt"] == meta["title"], "an enclosure has no description: the card's link text is the title"
    summary = str(meta["summary"])
    assert summary.startswith("A group of MPs is opening an inquiry") and summary.endswith(".")
    assert len(summary) <= 220 and "Continue reading" not in summary and "appeared first" not in summary
    assert str(meta["import_hash"]).startswith("sha256:")
    text = body(inquiry)
    assert f"[the office]({SITE}/contact/)" in text, "relative links are made absolute against the feed's link"
    for gone in ("Share this", "facebook.com/sharer", "share=twitter", "appeared first on", "&nbsp;", "\xa0"):
        assert gone not in text
    assert "\n\n\n" not in text

    lines = project / "articles" / "county-lines-violence.md"
    meta, text = front(lines), body(lines)
    assert meta["url"] == f"{SITE}/2018/01/30/county-lines-violence/", "a relative item link is resolved too"
    assert meta["category"] == "News"
    assert meta["image"] == f"{SITE}/wp-content/uploads/2018/01/county-lines.jpg"
    assert meta["image_alt"] == "Police tape across a Stockport street at night"
    assert meta["summary"] == (
        "Most police forces in Great Britain say violence tied to \u2018County Lines\u2019 drug "
        "gangs has gone up. Ann Coffey asked all 45 forces & every one replied."
    )
    assert "36 of them \u2013 four in five \u2013 said it had" in text
    assert "county-lines.jpg" not in text, "the picture is the article's image, not repeated in its body"
    assert f"[full survey results]({SITE}/wp-content/uploads/2018/01/county-lines-survey.pdf)" in text
    for gone in ("trackRead", "color: red", "Tweet this", "twitter.com/intent", "pixel.wp.com", "<"):
        assert gone not in text

    homes = front(project / "articles" / "childrens-homes-market-2.md")
    assert homes["category"] == "In Parliament"
    assert homes["image"] == f"{SITE}/wp-content/uploads/2018/01/commons.jpg"
    assert front(project / "articles" / "surgery-library.md")["category"] == "News", "an unknown category is News"


def test_an_atom_feed_with_html_and_xhtml_content(
    project: Path, run_cli: Run, server: tuple[str, Path, list[str]]
) -> None:
    base, _feeds, _seen = server
    result = run_cli("import", f"{base}/statements/atom.xml")
    assert result.returncode == 0, result.stderr
    assert "skipped     item 3 'An entry with no date': it has no date" in result.stdout
    standing = project / "articles" / "standing-down-2.md"
    meta, text = front(standing), body(standing)
    assert meta["url"] == f"{SITE}/statements/2019/10/31/standing-down"
    assert meta["category"] == "Statement"
    assert meta["image"] == f"{SITE}/images/ann-stockport.jpg"
    assert meta["image_alt"] == "Ann Coffey outside Stockport Town Hall"
    assert "kind messages & says" in text
    assert f"[Her full statement]({SITE}/statements/statement-in-full)" in text
    interview = project / "articles" / "final-interview-stockport-express.md"
    assert front(interview)["category"] == "Interview"
    assert "*Stockport Express*" in body(interview)
    assert f"[page one]({SITE}/press/express-page-one.pdf)" in body(interview)
    load_article(standing)
    load_article(interview)


def test_importing_twice_changes_nothing(project: Path, run_cli: Run, server: tuple[str, Path, list[str]]) -> None:
    base, _feeds, _seen = server
    assert run_cli("import", f"{base}/feed/").returncode == 0
    first = snapshot(project / "articles")
    again = run_cli("import", f"{base}/moved")  # the same feed behind a redirect
    assert again.returncode == 0, again.stderr
    assert snapshot(project / "articles") == first
    assert "4 exists, 1 skipped" in again.stdout
    assert "articles/county-lines-violence.md 'Violence linked" in again.stdout


def test_update_refreshes_only_what_nobody_edited(
    project: Path, run_cli: Run, server: tuple[str, Path, list[str]]
) -> None:
    base, feeds, _seen = server
    assert run_cli("import", f"{base}/feed/").returncode == 0
    articles = project / "articles"
    edited = articles / "surgery-library.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("No appointment", "No booking"), encoding="utf-8")
    hand_written = articles / "county-lines-violence.md"
    hand_written.write_text(
        re.sub(r"import_hash: .*\n", "", hand_written.read_text(encoding="utf-8")), encoding="utf-8"
    )
    rss = feeds / "wordpress.rss"
    rss.write_text(
        rss.read_text(encoding="utf-8")
        .replace("take place at Stockport Central Library", "takes place at Stockport Central Library")
        .replace("placed from outside the borough is 63", "placed from outside the borough was 63"),
        encoding="utf-8",
    )
    kept = {p: p.read_bytes() for p in (edited, hand_written)}
    result = run_cli("import", f"{base}/feed/", "--update")
    assert result.returncode == 0, result.stderr
    assert re.search(r"kept +articles/surgery-library\.md .*edited since it was imported: left alone", result.stdout)
    assert re.search(r"kept +articles/county-lines-violence\.md .*written by hand", result.stdout)
    assert re.search(r"updated +articles/childrens-homes-market-2\.md", result.stdout)
    assert re.search(r"unchanged +articles/sent-away-children-inquiry-2\.md", result.stdout)
    assert all(path.read_bytes() == data for path, data in kept.items()), "a hand edit is never overwritten"
    assert "was 63 per cent" in body(articles / "childrens-homes-market-2.md")
    load_article(articles / "childrens-homes-market-2.md")


def test_since_limit_and_dry_run(project: Path, run_cli: Run, server: tuple[str, Path, list[str]]) -> None:
    base, _feeds, _seen = server
    before = snapshot(project / "articles")
    dry = run_cli("import", f"{base}/feed/", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert snapshot(project / "articles") == before
    assert "would write articles/county-lines-violence.md" in dry.stdout
    assert "Dry run: nothing was written." in dry.stdout
    since = run_cli("import", f"{base}/feed/", "--since", "2018-01-20")
    assert since.returncode == 0, since.stderr
    assert set(snapshot(project / "articles")) - set(before) == {
        "sent-away-children-inquiry-2.md",
        "county-lines-violence.md",
    }
    limited = run_cli("import", f"{base}/feed/", "--limit", "1")
    assert "1 exists" in limited.stdout and "new" not in limited.stdout.split("\n")[0]
    bad = run_cli("import", f"{base}/feed/", "--since", "26/03/2018")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_a_file_can_be_imported_and_relative_links_use_the_feeds_link(project: Path, run_cli: Run) -> None:
    result = run_cli("import", str(FEEDS / "wordpress.rss"), "--limit", "2")
    assert result.returncode == 0, result.stderr
    meta = front(project / "articles" / "county-lines-violence.md")
    assert meta["url"] == f"{SITE}/2018/01/30/county-lines-violence/"


@pytest.mark.parametrize(
    ("path", "message", "code"),
    [
        ("/missing", r"^error: http://127\.0\.0\.1:\d+/missing: HTTP 404 Not Found$", 1),
        ("/page.html", r"^error: http://127\.0\.0\.1:\d+/page\.html: not an RSS or Atom feed", 2),
        ("/big", r"^error: http://127\.0\.0\.1:\d+/big: the feed is 5121 KB, over the 5 MB limit$", 1),
        ("/big-chunked", r"^error: http://127\.0\.0\.1:\d+/big-chunked: the feed is over the 5 MB limit$", 1),
        ("/loop", r"^error: http://127\.0\.0\.1:\d+/loop: more than 5 redirects \(a redirect loop\?\)$", 1),
        ("/to-ftp", r"^error: http://127\.0\.0\.1:\d+/to-ftp: redirected to an address that is not http\(s\)", 1),
    ],
)
def test_server_failures_are_one_line(
    project: Path, run_cli: Run, server: tuple[str, Path, list[str]], path: str, message: str, code: int
) -> None:
    base, _feeds, _seen = server
    before = snapshot(project / "articles")
    result = run_cli("import", base + path)
    assert result.returncode == code, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.match(message, result.stderr.strip()), result.stderr
    assert snapshot(project / "articles") == before


def test_refused_silent_and_unknown_hosts_are_one_line(project: Path, run_cli: Run) -> None:
    port = closed_port()
    refused = run_cli("import", f"http://127.0.0.1:{port}/feed/")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: 127.0.0.1:{port}: connection refused (is the address right, and the server up?)"
    )
    with silent_port() as port:
        silent = run_cli("import", f"http://127.0.0.1:{port}/feed/", "--timeout", "1")
    assert silent.returncode == 1
    assert silent.stderr.strip() == f"error: 127.0.0.1:{port}: no answer within 1 s (timeout)"
    unknown = run_cli("import", "https://feed.invalid/feed/")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: feed.invalid: host not found (DNS lookup failed)"
    for source, expected in (
        ("ftp://www.example.org/feed.xml", "only http:// and https:// addresses"),
        ("no-such-feed.xml", "no-such-feed.xml: no such file"),
    ):
        result = run_cli("import", source)
        assert result.returncode == 2 and expected in result.stderr and len(result.stderr.splitlines()) == 1


def test_new_issue_from_imported_articles_passes_check_once_its_intro_is_written(
    project: Path, run_cli: Run, server: tuple[str, Path, list[str]]
) -> None:
    base, _feeds, _seen = server
    assert run_cli("import", f"{base}/feed/").returncode == 0
    made = run_cli(
        "new-issue",
        "spring-2018-imported",
        "--date",
        "2018-04-01",
        "--articles",
        "sent-away-children-inquiry-2,county-lines-violence,childrens-homes-market-2",
    )
    assert made.returncode == 0, made.stderr
    issue = yaml.safe_load((project / "issues" / "spring-2018-imported.yaml").read_text(encoding="utf-8"))
    assert issue["articles"][0] == {"slug": "sent-away-children-inquiry-2", "featured": True}
    assert issue["articles"][1:] == ["county-lines-violence", "childrens-homes-market-2"]
    assert issue["subject"] == "Parliamentary inquiry into \u2018sent away\u2019 children"
    check = run_cli("check", "spring-2018-imported")  # the starter intro is still to be written
    errors = [line for line in check.stdout.splitlines() if line.startswith("error")]
    assert check.returncode == 1 and len(errors) == 1 and "the intro still has the starter text" in errors[0]
    path = project / "issues" / "spring-2018-imported.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("intro: |"), text.index("articles:")
    path.write_text(text[:start] + "intro: |\n  The inquiry's first findings.\n" + text[end:], encoding="utf-8")
    check = run_cli("check", "spring-2018-imported")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 error(s)" in check.stdout or "No problems found." in check.stdout


def test_new_issue_refuses_to_overwrite_and_names_missing_articles(project: Path, run_cli: Run) -> None:
    original = (project / "issues" / "spring-2018.yaml").read_bytes()
    taken = run_cli("new-issue", "spring-2018", "--articles", "standing-down")
    assert taken.returncode == 2 and "issues/spring-2018.yaml: already exists" in taken.stderr
    assert (project / "issues" / "spring-2018.yaml").read_bytes() == original
    missing = run_cli("new-issue", "winter-2019", "--articles", "standing-down,no-such-article,also-missing")
    assert missing.returncode == 2
    assert "no article 'no-such-article', 'also-missing'" in missing.stderr
    assert not (project / "issues" / "winter-2019.yaml").exists()
    bad = run_cli("new-issue", "Winter 2019", "--articles", "standing-down")
    assert bad.returncode == 2 and "issue slug" in bad.stderr


def test_the_project_is_found_from_a_subfolder_or_given(project: Path, run_cli: Run, tmp_path: Path) -> None:
    """Articles land in the project's articles/, wherever the command is started."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_"))}
    feed = str(FEEDS / "office.atom")
    inside = subprocess.run(
        [sys.executable, "-m", "newsletter", "import", feed],
        cwd=project / "templates",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert inside.returncode == 0, inside.stderr
    assert "new         articles/standing-down-2.md" in inside.stdout
    assert (project / "articles" / "final-interview-stockport-express.md").is_file()
    assert not (project / "templates" / "articles").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsletter",
            "--project",
            str(project),
            "new-issue",
            "late-2019",
            "--articles",
            "final-interview-stockport-express",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert (project / "issues" / "late-2019.yaml").is_file() and not list(elsewhere.iterdir())
    built = subprocess.run(
        [sys.executable, "-m", "newsletter", "--project", str(project), "archive", "--include-unsent"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert built.returncode == 0, built.stderr
    assert (project / "archive" / "late-2019.html").is_file() and not list(elsewhere.iterdir())
