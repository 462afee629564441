"""The suppression list through the real CLI: unsubscribe by hand, list, export, import,
remove; bad input is one line, exit 2, and writes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from newsletter.store import Location, exists, suppressions
from tests.conftest import REAL_SETTINGS, Run
from tests.support.db import query

pytestmark = pytest.mark.usefixtures("on_each_backend")  # every test on SQLite and on PostgreSQL


def rows(location: Location) -> list[tuple[str, str]]:
    return [
        (email, reason) for email, reason in query(location, "SELECT email, reason FROM suppressions ORDER BY email")
    ]


def test_unsubscribe_by_hand_is_honoured_and_only_remove_lifts_it(run_cli: Run, on_each_backend: Location) -> None:
    result = run_cli("unsubscribe", "D.Okafor@example.com", "p.shah@example.com", "--note", "phoned 3 May")
    assert result.returncode == 0, result.stderr
    assert "d.okafor@example.com: unsubscribed" in result.stdout.lower()
    assert "already on the suppression list" in run_cli("unsubscribe", "p.shah@example.com").stdout
    assert rows(on_each_backend) == [("d.okafor@example.com", "unsubscribed"), ("p.shah@example.com", "unsubscribed")]

    # the subscriber CSV still lists both with consent: it cannot override the list
    dry = run_cli("send", "spring-2018", "--subscribers", "subscribers.example.csv", "--dry-run", env=REAL_SETTINGS)
    assert "16 to send to" in dry.stdout and "2 suppressed" in dry.stdout

    removed = run_cli("suppressions", "remove", "p.shah@example.com")
    assert removed.returncode == 0 and "removed (unsubscribed, staff" in removed.stdout
    assert rows(on_each_backend) == [("d.okafor@example.com", "unsubscribed")]
    missing = run_cli("suppressions", "remove", "p.shah@example.com")
    assert missing.returncode == 2 and "not on the suppression list" in missing.stderr


def test_an_invalid_address_writes_nothing(run_cli: Run, on_each_backend: Location) -> None:
    result = run_cli("unsubscribe", "ok@example.org", "not-an-address")
    assert result.returncode == 2
    assert "EMAIL 2 ('not-an-address')" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not exists(on_each_backend)


def test_export_then_import_round_trips(project: Path, run_cli: Run, request: pytest.FixtureRequest) -> None:
    run_cli("unsubscribe", "a@example.org", "b@example.org")
    exported = run_cli("suppressions", "export", "out.csv")
    assert exported.returncode == 0 and "2 suppressed addresses written" in exported.stdout
    with (project / "out.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [r["email"] for r in records] == ["a@example.org", "b@example.org"]
    assert set(records[0]) == set(suppressions.CSV_COLUMNS)

    if request.getfixturevalue("backend") == "postgresql":
        env = {"NEWSLETTER_DATABASE": request.getfixturevalue("pg_cluster").new_database()}
    else:  # the older name of NEWSLETTER_DATABASE still works
        env = {"NEWSLETTER_JOURNAL": str(project / "other" / "journal.sqlite3")}
    imported = run_cli("suppressions", "import", "out.csv", env=env)
    assert imported.returncode == 0 and "2 rows, 2 added, 0 already suppressed" in imported.stdout
    assert "1 already suppressed" not in run_cli("suppressions", "import", "out.csv", env=env).stdout
    listed = run_cli("suppressions", "list", env=env).stdout
    assert "a@example.org" in listed and "2 suppressed" in listed


def test_a_malformed_import_names_the_line_and_adds_nothing(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    run_cli("unsubscribe", "kept@example.org")
    (project / "bad.csv").write_text(
        "email,reason\nfine@example.org,hard-bounce\nbroken-address,manual\n", encoding="utf-8"
    )
    result = run_cli("suppressions", "import", "bad.csv")
    assert result.returncode == 2 and "bad.csv:3: email 'broken-address'" in result.stderr
    (project / "reason.csv").write_text("email,reason\nfine@example.org,bored\n", encoding="utf-8")
    result = run_cli("suppressions", "import", "reason.csv")
    assert result.returncode == 2 and "reason.csv:2: reason 'bored' is not one of" in result.stderr
    (project / "nohead.csv").write_text("address\nfine@example.org\n", encoding="utf-8")
    assert "nohead.csv:1: no 'email' column" in run_cli("suppressions", "import", "nohead.csv").stderr
    assert rows(on_each_backend) == [("kept@example.org", "unsubscribed")]


def test_import_of_a_missing_file_creates_no_database(run_cli: Run, on_each_backend: Location) -> None:
    result = run_cli("suppressions", "import", "nope.csv")
    assert result.returncode == 2 and "nope.csv: cannot read" in result.stderr
    assert not exists(on_each_backend)


def test_the_tables_live_beside_the_sender_journal(database: Location, backend: str) -> None:
    path = database
    db = suppressions.connect(path)
    if backend == "sqlite":
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert suppressions.add(db, "X@Example.org", "manual", "test") is True
    assert suppressions.add(db, "x@example.org", "hard-bounce", "later") is False
    db.close()
    [entry] = suppressions.suppressed_addresses(path).values()
    assert (entry.email, entry.reason) == ("x@example.org", "manual")
