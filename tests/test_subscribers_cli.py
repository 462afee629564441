"""The list of record through the real CLI: import, list, show, export, add, remove, privacy requests;
each test on a SQLite file and on a real PostgreSQL server (`on_each_backend`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter.store import Location, connect
from tests.conftest import Run
from tests.support import db as store

HEADER = "email,first_name,last_name,ward,tags,consented_at\n"


@pytest.fixture
def location(on_each_backend: Location) -> Location:
    """The project's database on this test's backend (what the commands use)."""
    return on_each_backend


def query(database: Location, sql: str, *params: str) -> list[tuple[object, ...]]:
    return store.query(database, sql, params)


def mentions(database: Location, text: str) -> list[str]:
    """The tables that hold `text` anywhere in a row, read through the store on either backend."""
    with connect(database) as db:
        if db.backend == "sqlite":
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            tables = [
                name
                for (name,) in db.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                )
            ]
        return [
            table for table in tables if any(text in repr(tuple(row)) for row in db.execute(f"SELECT * FROM {table}"))
        ]


def test_a_second_import_of_the_same_file_changes_nothing_and_says_so(
    project: Path, location: Location, run_cli: Run
) -> None:
    first = run_cli("subscribers", "import", "subscribers.example.csv", "--source", "paper forms")
    assert first.returncode == 0, first.stderr
    assert "18 added, 0 updated, 0 unchanged, 2 skipped, 2 no consent" in first.stdout
    events = query(location, "SELECT count(*) FROM consent_events")
    second = run_cli("subscribers", "import", "subscribers.example.csv")
    assert "0 added, 0 updated, 18 unchanged, 2 skipped" in second.stdout and "Nothing changed" in second.stdout
    assert query(location, "SELECT count(*) FROM consent_events") == events
    detail = query(location, "SELECT detail FROM consent_events WHERE email = 'zoe.brennan@example.org'")
    assert detail == [(f"{project.resolve() / 'subscribers.example.csv'} line 4; paper forms",)]
    # A row without consent never becomes a subscriber.
    assert query(location, "SELECT count(*) FROM subscribers WHERE email = 'janet.clarke@example.com'") == [(0,)]


def test_an_import_updates_details_with_evidence_but_never_resubscribes(
    project: Path, location: Location, run_cli: Run
) -> None:
    (project / "a.csv").write_text(
        HEADER + "ann@example.org,Ann,,Manor,,2020-01-01\nbob@example.org,Bob,,Manor,,2020-01-01\n", encoding="utf-8"
    )
    assert run_cli("subscribers", "import", "a.csv").returncode == 0
    assert run_cli("unsubscribe", "bob@example.org").returncode == 0
    (project / "b.csv").write_text(
        HEADER + "ANN@example.org,Ann,,Reddish South,,2020-01-01\nbob@example.org,Bob,,Manor,,2021-01-01\n",
        encoding="utf-8",
    )
    result = run_cli("subscribers", "import", "b.csv")
    assert "0 added, 1 updated, 0 unchanged, 1 skipped, 1 suppressed" in result.stdout, result.stdout
    assert query(location, "SELECT ward FROM subscribers WHERE email = 'ann@example.org'") == [("Reddish South",)]
    assert query(location, "SELECT kind FROM consent_events WHERE email = 'ann@example.org' ORDER BY id") == [
        ("imported",),
        ("preferences-changed",),
    ]
    send = run_cli("send", "spring-2018", "--yes")
    assert send.returncode == 0 and "1 sent" in send.stdout, send.stdout
    assert query(location, "SELECT email FROM deliveries WHERE state = 'sent'") == [("ann@example.org",)]


def test_remove_then_import_or_add_is_refused(project: Path, location: Location, run_cli: Run) -> None:
    add = run_cli("subscribers", "add", "cat@example.org", "--first-name", "Cat", "--consent", "letter, 3 May")
    assert add.returncode == 0 and "subscribed" in add.stdout
    assert run_cli("subscribers", "remove", "cat@example.org", "--note", "asked").returncode == 0
    (project / "c.csv").write_text(HEADER + "cat@example.org,Cat,,,,2020-01-01\n", encoding="utf-8")
    result = run_cli("subscribers", "import", "c.csv")
    assert "1 skipped" in result.stdout and "Nothing changed" in result.stdout
    again = run_cli("subscribers", "add", "cat@example.org", "--consent", "phone")
    assert again.returncode == 2 and again.stderr.count("error:") == 1 and "suppression list" in again.stderr
    show = run_cli("subscribers", "show", "cat@example.org")
    assert "unsubscribed" in show.stdout and "added (staff): letter, 3 May" in show.stdout
    assert "unsubscribed (staff): asked" in show.stdout


def test_erase_keeps_only_a_keyed_hash_and_a_later_import_cannot_add_them(
    project: Path, location: Location, run_cli: Run
) -> None:
    assert run_cli("send", "spring-2018", "--yes").returncode == 0
    who = "zoe.brennan@example.org"
    held = json.loads(run_cli("subscribers", "export-person", who).stdout)
    assert held["subscriber"]["ward"] == "Edgeley and Cheadle Heath"
    assert held["deliveries"][0]["state"] == "sent" and held["deliveries"][0]["message_id"].startswith("<")
    assert [e["kind"] for e in held["consent_events"]] == ["imported"]
    erased = run_cli("subscribers", "erase", who, "--yes")
    assert erased.returncode == 0 and "keyed hash" in erased.stdout
    assert mentions(location, who) == [] and mentions(location, "Brennan") == []
    if isinstance(location, Path):  # SQLite: not in freed pages or the write-ahead log either
        files = [location, location.with_name("newsletter.sqlite3-wal")]
        held = b"".join(path.read_bytes() for path in files if path.exists())
        assert who.encode() not in held and b"Brennan" not in held
    again = run_cli("subscribers", "import", "subscribers.example.csv")
    assert "1 suppressed" in again.stdout and "erased" in again.stdout
    after = json.loads(run_cli("subscribers", "export-person", who).stdout)
    assert after["subscriber"] is None and after["deliveries"] == [] and after["erased_before"] is True
    one_off = run_cli("send", "spring-2018", "--dry-run", "--subscribers", "subscribers.example.csv")
    assert "zoe.brennan" in one_off.stdout and "erased on request" in one_off.stdout


def test_export_writes_a_file_that_imports_back_unchanged(project: Path, location: Location, run_cli: Run) -> None:
    assert run_cli("subscribers", "import", "subscribers.example.csv").returncode == 0
    result = run_cli("subscribers", "export", "out/list.csv")
    assert result.returncode == 0 and "18 subscribers written" in result.stdout
    assert (project / "out" / "list.csv").read_text(encoding="utf-8").startswith("email,first_name,")
    back = run_cli("subscribers", "import", "out/list.csv")
    assert "18 unchanged" in back.stdout and "Nothing changed" in back.stdout
    listed = run_cli("subscribers", "list", "--status", "subscribed")
    assert listed.stdout.count("\tsubscribed\t") == 18 and "18 subscribed" in listed.stdout


def test_the_dry_run_reads_the_journal_like_the_send(project: Path, location: Location, run_cli: Run) -> None:
    assert run_cli("send", "spring-2018", "--yes", "--limit", "5").returncode == 0
    sent = [e for (e,) in query(location, "SELECT email FROM deliveries WHERE state = 'sent' ORDER BY email")]
    store.write(location, "UPDATE deliveries SET state = 'sending' WHERE email = ?", (sent[0],))
    store.write(location, "UPDATE deliveries SET state = 'failed' WHERE email = ?", (sent[1],))
    dry = run_cli("send", "spring-2018", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "13 would be sent" in dry.stdout and "3 skipped (already sent)" in dry.stdout
    assert "1 skipped (failed before" in dry.stdout and "1 unknown" in dry.stdout
    retry = run_cli("send", "spring-2018", "--dry-run", "--retry-failed", "--resend-unknown")
    assert "15 would be sent" in retry.stdout


def test_bad_input_is_one_line_and_exit_2(project: Path, location: Location, run_cli: Run) -> None:
    for args in (
        ("subscribers", "import", "missing.csv"),
        ("subscribers", "show", "not an address"),
        ("subscribers", "add", "x@example.org", "--consent", " "),
        ("subscribers", "remove", "nobody@example.org"),
    ):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr


def test_unsubscribe_by_hand_marks_the_person_and_keeps_the_evidence(
    project: Path, location: Location, run_cli: Run
) -> None:
    (project / "a.csv").write_text(HEADER + "ann@example.org,Ann,,Manor,,2020-01-01\n", encoding="utf-8")
    assert run_cli("subscribers", "import", "a.csv").returncode == 0
    result = run_cli("unsubscribe", "ANN@example.org", "--note", "phoned the office 3 May")
    assert result.returncode == 0, result.stderr
    assert query(location, "SELECT status FROM subscribers WHERE email = 'ann@example.org'") == [("unsubscribed",)]
    events = query(
        location, "SELECT kind, source, detail FROM consent_events WHERE email = 'ann@example.org' ORDER BY id"
    )
    assert [kind for kind, _source, _detail in events] == ["imported", "unsubscribed"]
    assert events[-1][1:] == ("staff", "phoned the office 3 May")
