"""`subscribers list` and `suppressions list` as a program or a spreadsheet reads them: every
address whole when the output is not a terminal, and `--format csv|json` (CSV through the
export gate, so no cell becomes a formula; JSON a list of objects). The real CLI on a real
SQLite file and a real PostgreSQL server (the property test of the gate keeps SQLite: its
subject is the CSV cell, and each example needs a list of its own)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.cli import main
from newsletter.gates.address import clean_name
from newsletter.gates.cells import FORMULA_START, restore
from newsletter.store import Location, exists, open_store, transaction
from newsletter.store import suppressions as store_suppressions
from newsletter.store.consent import Evidence
from newsletter.store.subscribers import add_by_staff
from tests.conftest import Run

DB = Path(".newsletter") / "newsletter.sqlite3"
# Long enough that a table sized for an 80-column terminal cannot show it whole.
LONG = "margaret.hughes-worthington.constituency.casework@reddish-south-community-association.example.org"
FORMULA = '=HYPERLINK("https://evil.example.net","click")'


def fill(location: Location) -> None:
    """A subscriber with a long address and a formula for a name; a suppression with a formula detail."""
    with open_store(location) as store:
        add_by_staff(store.db, LONG, FORMULA, "-Lee", "Manor", ["schools", "events"], "2020-01-01", Evidence("staff"))
        add_by_staff(store.db, "ann@example.org", "Ann", "", "", [], "2020-01-01", Evidence("staff"))
        with transaction(store.db):
            store_suppressions.add(store.db, LONG, "hard-bounce", "@relay", FORMULA)


def test_both_lists_print_every_address_whole_into_a_pipe(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    fill(on_each_backend)
    for command in (("subscribers", "list"), ("suppressions", "list")):
        result = run_cli(*command, env={"COLUMNS": "80"})
        assert result.returncode == 0, result.stderr
        [row] = [line for line in result.stdout.splitlines() if line.startswith(LONG[:20])]
        assert row.split("\t")[0] == LONG, (command, result.stdout)
    suppressed = run_cli("suppressions", "list", env={"COLUMNS": "80"}).stdout.splitlines()
    assert suppressed[0].split("\t") == [LONG, "hard-bounce", "@relay", suppressed[0].split("\t")[3], FORMULA]
    assert suppressed[-1].startswith("1 suppressed in ")


def test_subscribers_list_as_csv_and_json(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    fill(on_each_backend)
    as_csv = run_cli("subscribers", "list", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["email"] for r in rows] == ["ann@example.org", LONG], "nothing but the CSV on stdout"
    assert rows[1]["first_name"] == "'" + FORMULA and rows[1]["last_name"] == "'-Lee"
    assert (rows[1]["ward"], rows[1]["tags"], rows[1]["status"]) == ("Manor", "schools;events", "subscribed")
    assert as_csv.stdout.startswith('"email","status",')

    as_json = run_cli("subscribers", "list", "--format", "json", "--status", "subscribed")
    assert as_json.returncode == 0, as_json.stderr
    listed = json.loads(as_json.stdout)
    assert [p["email"] for p in listed] == ["ann@example.org", LONG]
    assert listed[1]["first_name"] == FORMULA and listed[1]["tags"] == ["schools", "events"]
    assert listed[1]["consented_at"] == "2020-01-01" and set(listed[0]) == set(listed[1])
    assert json.loads(run_cli("subscribers", "list", "--format", "json", "--status", "pending").stdout) == []


def test_suppressions_list_as_csv_and_json(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    fill(on_each_backend)
    as_csv = run_cli("suppressions", "list", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    [row] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (row["email"], row["reason"], row["source"], row["detail"]) == (
        LONG,
        "hard-bounce",
        "'@relay",
        "'" + FORMULA,
    )
    as_json = run_cli("suppressions", "list", "--format", "json")
    [item] = json.loads(as_json.stdout)
    assert item["email"] == LONG and item["detail"] == FORMULA and item["source"] == "@relay"
    assert set(item) == {"email", "reason", "source", "detail", "created_at"}
    bad = run_cli("suppressions", "list", "--format", "xml")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_an_empty_list_is_an_empty_csv_or_json_and_creates_no_database(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    as_csv = run_cli("suppressions", "list", "--format", "csv")
    assert as_csv.returncode == 0 and as_csv.stdout.strip() == '"email","reason","source","detail","created_at"'
    assert json.loads(run_cli("suppressions", "list", "--format", "json").stdout) == []
    assert not exists(on_each_backend) and not (project / ".newsletter").exists()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.text(max_size=30), last=st.text(max_size=30))
def test_any_name_a_stranger_types_is_listed_intact_and_never_as_a_formula(
    project: Path, capsysbinary: pytest.CaptureFixture[bytes], first: str, last: str
) -> None:
    """A name from the signup form (after the name gate) comes back unchanged in JSON and, once
    the gate's quote is taken off, in CSV; no CSV cell starts a formula."""
    home = project / uuid.uuid4().hex
    (home / "issues").mkdir(parents=True)
    first, last = clean_name(first), clean_name(last)
    with open_store(home / DB) as store:
        add_by_staff(store.db, "x@example.org", first, last, "", [], "2020-01-01", Evidence("web-form"))
    capsysbinary.readouterr()
    assert main(["--project", str(home), "subscribers", "list", "--format", "csv"]) == 0
    text = capsysbinary.readouterr().out.decode("utf-8")
    [header, row] = list(csv.reader(io.StringIO(text)))
    assert not any(cell.startswith(FORMULA_START) for cell in row)
    found = dict(zip(header, row, strict=True))
    assert (restore(found["first_name"]), restore(found["last_name"])) == (first, last)
    assert main(["--project", str(home), "subscribers", "list", "--format", "json"]) == 0
    [listed] = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert (listed["first_name"], listed["last_name"]) == (first, last)
