"""The archive of record: a send keeps what it sent, and `newsletter archive` shows that, not a
re-render of files edited since. Real sends (the outbox, an aiosmtpd relay), the real CLI,
real databases, including a SQLite file from the release before snapshots.

The whole-send tests run on SQLite only (each is several real sends, and the suite has a time
budget); the ones whose subject is the database itself run on PostgreSQL too: a snapshot kept
and read back, and the archive of a send made on PostgreSQL."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import sqlite3
from email import message_from_bytes
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.mail.compose import compose
from newsletter.mail.webcopy import web_copy
from newsletter.settings import load_settings
from newsletter.store import Location, legacy, open_store, schema, snapshots
from tests.conftest import REAL_SETTINGS, Run
from tests.support.axe import axe_violations, describe
from tests.support.db import query
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(120)

DATABASE = Path(".newsletter") / "newsletter.sqlite3"
RELEASE_JOURNAL = Path(__file__).parent / "fixtures" / "store" / "journal-release.sqlite3"
ARTICLE = Path("articles") / "leaving-labour-party.md"
SENT_WORDING = "she had expected to stay in the party for the rest of her life"
EDITED_WORDING = "she had hoped to stay in the party for good"


def edit_article(project: Path) -> None:
    path = project / ARTICLE
    text = path.read_text(encoding="utf-8")
    assert SENT_WORDING in text
    path.write_text(text.replace(SENT_WORDING, EDITED_WORDING), encoding="utf-8")


def today(project: Path, slug: str) -> str:
    """The issue's web copy re-rendered from today's files."""
    return web_copy(compose(project / "issues" / f"{slug}.yaml", load_settings({}))).html


def body(data: bytes) -> str:
    """The HTML part of a message as sent, decoded."""
    html = next(p for p in message_from_bytes(data).walk() if p.get_content_type() == "text/html")
    payload = html.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


@pytest.mark.usefixtures("on_each_backend")
def test_the_archive_shows_the_sent_wording_after_the_article_is_edited(project: Path, run_cli: Run) -> None:
    sent = run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert "warning" not in sent.stderr
    assert run_cli("archive", "--out", "before").returncode == 0
    edit_article(project)
    result = run_cli("archive", "--out", "site")
    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stdout, "an issue with a snapshot is not rebuilt"
    page = (project / "site" / "early-2019.html").read_text(encoding="utf-8")
    assert SENT_WORDING in page and EDITED_WORDING not in page
    assert EDITED_WORDING in today(project, "early-2019"), "a fresh re-render would show the edit"
    for name in ("early-2019.html", "feed.xml", "index.html"):
        assert (project / "site" / name).read_bytes() == (project / "before" / name).read_bytes(), name
    received = next((project / "outbox" / "early-2019").glob("*.eml")).read_bytes()
    assert SENT_WORDING in body(received), "the snapshot holds what the messages held"


def test_a_sent_issue_with_a_snapshot_stays_when_its_file_is_deleted(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes").returncode == 0
    (project / "issues" / "early-2019.yaml").unlink()
    result = run_cli("archive", "--out", "site")
    assert result.returncode == 0, result.stderr
    assert "is gone" not in result.stdout
    assert SENT_WORDING in (project / "site" / "early-2019.html").read_text(encoding="utf-8")


def test_ward_editions_are_kept_as_sent(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "spring-2016", "--subscribers", "subscribers.example.csv", "--yes").returncode == 0
    ward = project / "articles" / "dementia-dols-red-tape.md"
    ward.write_text(ward.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "EDITED '), encoding="utf-8")
    assert run_cli("archive", "--out", "site").returncode == 0
    pages = sorted((project / "site").glob("spring-2016.*.html"))
    assert pages, "the ward edition's page is published"
    for page in pages:
        assert "EDITED" not in page.read_text(encoding="utf-8"), page.name
    with open_store(project / DATABASE) as store:
        kept = snapshots.get(store.db, "spring-2016")
    assert kept is not None and [e.stem for e in kept.editions] == [p.stem for p in pages]
    assert kept.text.startswith("Ann Coffey MP") and "View in your browser" in kept.text


def test_a_resumed_send_of_an_edited_issue_warns_once_and_keeps_the_first_copy(project: Path, run_cli: Run) -> None:
    env = {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_SECURITY": "none", "SMTP_RETRY_DELAY": "0.05"}
    with Server() as server:
        env["SMTP_PORT"] = str(server.port)
        first = run_cli(
            "send",
            "early-2019",
            "--allow-missing-images",
            "--subscribers",
            "subscribers.example.csv",
            "--limit",
            "2",
            "--yes",
            env=env,
        )
        assert first.returncode == 0, first.stderr
        with open_store(project / DATABASE) as store:
            kept = snapshots.taken(store.db, "early-2019")
        assert kept is not None
        same = run_cli(
            "send",
            "early-2019",
            "--allow-missing-images",
            "--subscribers",
            "subscribers.example.csv",
            "--limit",
            "1",
            "--yes",
            env=env,
        )
        assert same.returncode == 0 and "warning" not in same.stderr, same.stderr
        edit_article(project)
        resumed = run_cli(
            "send", "early-2019", "--allow-missing-images", "--subscribers", "subscribers.example.csv", "--yes", env=env
        )
        assert resumed.returncode == 0, resumed.stderr
        received = list(server.handler.received)
    warnings = [line for line in resumed.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, resumed.stderr
    assert "early-2019 has changed since its first send" in warnings[0] and kept[0] in warnings[0]
    assert SENT_WORDING in body(received[0].data) and EDITED_WORDING in body(received[-1].data), (
        "the send still goes, with the edit"
    )
    with open_store(project / DATABASE) as store:
        assert snapshots.taken(store.db, "early-2019") == kept, "the first snapshot is never overwritten"
    status = run_cli("status", "early-2019")
    assert f"snapshot: taken {kept[0]}" in status.stdout, status.stdout
    assert run_cli("archive").returncode == 0
    assert SENT_WORDING in (project / "archive" / "early-2019.html").read_text(encoding="utf-8")


def test_test_sends_and_dry_runs_keep_no_snapshot(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "early-2019", "--to", "me@example.org", "--yes").returncode == 0
    assert run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--dry-run").returncode == 0
    with open_store(project / DATABASE) as store:
        assert snapshots.every(store.db) == {}


def test_a_snapshot_that_reached_nobody_is_replaced_without_a_warning(project: Path, run_cli: Run) -> None:
    env = {
        **REAL_SETTINGS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_SECURITY": "none",
        "SMTP_RETRY_DELAY": "0.01",
        "SMTP_CONNECTIONS": "1",
    }
    with Server() as server:
        env["SMTP_PORT"] = str(server.port)
        server.inject("RCPT", *["550 5.1.1 no such user"] * 3)
        failed = run_cli(
            "send",
            "early-2019",
            "--allow-missing-images",
            "--subscribers",
            "subscribers.example.csv",
            "--limit",
            "3",
            "--yes",
            env=env,
        )
        assert "3 failed" in failed.stdout, failed.stdout + failed.stderr
        edit_article(project)
        again = run_cli(
            "send",
            "early-2019",
            "--allow-missing-images",
            "--subscribers",
            "subscribers.example.csv",
            "--retry-failed",
            "--yes",
            env=env,
        )
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr
    with open_store(project / DATABASE) as store:
        kept = snapshots.get(store.db, "early-2019")
    assert kept is not None and EDITED_WORDING in kept.html, "nobody got the first version: the record is the second"


def old_database(path: Path) -> None:
    """The schema of the release before snapshots (migrations 1 and 2), with spring-2018 sent.
    Made with sqlite3 on purpose: it is a file an earlier release left, not one the store makes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    for number in range(2):
        db.executescript(legacy.MIGRATIONS[number])
    db.execute("PRAGMA user_version = 2")
    db.execute(
        "INSERT INTO deliveries (issue, email, state, created_at, updated_at) VALUES "
        "('spring-2018', 'a@example.org', 'sent', '2018-04-06T09:00:00+00:00', '2018-04-06T09:00:01+00:00')"
    )
    db.close()


@pytest.mark.parametrize("make", ["previous-schema", "release-journal"])
def test_an_old_database_is_refused_then_upgraded_and_the_archive_falls_back_with_one_note(
    project: Path, run_cli: Run, make: str
) -> None:
    if make == "previous-schema":
        path = project / DATABASE
        old_database(path)
    else:
        path = project / ".newsletter" / "journal.sqlite3"
        path.parent.mkdir()
        shutil.copy(RELEASE_JOURNAL, path)
    edit_article(project)
    refused = run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert str(path) in refused.stderr and "newsletter db upgrade" in refused.stderr
    assert run_cli("db", "upgrade").returncode == 0
    assert run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes").returncode == 0
    result = run_cli("archive", "--out", "site")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: no copy of what was sent is kept for spring-2018 (sent before this release): rebuilt from today's files"
    ], result.stdout
    assert (project / "site" / "spring-2018.html").is_file() and (project / "site" / "early-2019.html").is_file()
    assert query(path, "SELECT version_num FROM alembic_version") == [(schema.head(),)]
    assert query(path, "SELECT issue FROM issue_snapshots") == [("early-2019",)]
    status = run_cli("status", "spring-2018")
    assert "snapshot: none" in status.stdout, status.stdout


def test_unsent_previews_render_from_todays_files(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--yes").returncode == 0
    draft = project / "articles" / "standing-down.md"
    draft.write_text(draft.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "DRAFT '), encoding="utf-8")
    edit_article(project)
    assert run_cli("archive", "--out", "site", "--include-unsent").returncode == 0
    assert "DRAFT" in (project / "site" / "november-2019.html").read_text(encoding="utf-8")
    assert SENT_WORDING in (project / "site" / "early-2019.html").read_text(encoding="utf-8")


# Any text but NUL: PostgreSQL's TEXT cannot hold U+0000, and no snapshot can contain one (article
# bodies and issue YAML refuse control characters before anything is composed: content/articles.py,
# yamlfile.py).
text = st.text(st.characters(blacklist_characters="\x00"), max_size=200)
editions = st.lists(st.builds(snapshots.SnapshotEdition, text, text, text, text), max_size=3)


_issues = itertools.count()


# One database for every example (a new one each would be a CREATE DATABASE per example on
# PostgreSQL): each example keeps its own issue, so no example sees another's row.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=text, html=text, plain=text, wards=editions)
def test_what_is_kept_is_read_back_exactly(
    database: Location,
    subject: str,
    html: str,
    plain: str,
    wards: list[snapshots.SnapshotEdition],
) -> None:
    issue = f"x{next(_issues)}"
    copy = snapshots.Snapshot(issue, subject, "pre", "2019-03-08", "8 March 2019", html, plain, tuple(wards))
    with open_store(database) as store:
        stored, written = snapshots.keep(store.db, copy, "2026-01-01T00:00:00+00:00")
        again, rewritten = snapshots.keep(store.db, dataclasses.replace(copy, html=html + "!"), "2027-01-01")
    assert written and not rewritten
    assert stored == again and stored.taken_at == "2026-01-01T00:00:00+00:00"
    assert (stored.subject, stored.html, stored.text, stored.editions) == (subject, html, plain, tuple(wards))
    assert stored.content_hash == copy.content_hash


def test_a_page_built_from_a_snapshot_passes_axe(project: Path, run_cli: Run, chromium: object) -> None:
    assert run_cli("send", "spring-2016", "--subscribers", "subscribers.example.csv", "--yes").returncode == 0
    assert run_cli("archive", "--out", "site").returncode == 0
    context = chromium.new_context(bypass_csp=True, viewport={"width": 375, "height": 800})  # type: ignore[attr-defined]
    try:
        for page in sorted((project / "site").glob("spring-2016*.html")):
            tab = context.new_page()
            tab.goto(page.as_uri())
            violations = axe_violations(tab)
            assert not violations, f"{page.name}: {describe(violations)}"
    finally:
        context.close()
