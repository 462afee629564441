"""`subscribers import` keeps everyone or says why not: day-first dates, refusals, name columns.

The real CLI in-process (`newsletter.cli.main`) in a throw-away project, on a real SQLite file
and a real PostgreSQL server (`both`). The property tests keep SQLite: each example needs a
list of its own, and what they add (dates, one-line refusals) is the gate's, not the database's.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.cli import main
from newsletter.gates.dates import date_format, read_date
from newsletter.store import Location, exists
from tests.support.db import query

DB = Path(".newsletter") / "newsletter.sqlite3"
HEADER = ["email", "first_name", "last_name", "ward", "tags", "consented_at"]
TODAY = dt.date.today()


def make_project(root: Path) -> Path:
    (root / "issues").mkdir(parents=True)
    return root


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--project", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


both = pytest.mark.usefixtures("on_each_backend")  # on PostgreSQL it sets NEWSLETTER_DATABASE, which main reads


def location(root: Path) -> Location:
    """The project's database: the test's PostgreSQL database (`on_each_backend`), or its file."""
    return os.environ.get("NEWSLETTER_DATABASE") or root / DB


def created(root: Path) -> bool:
    return (root / ".newsletter").exists() or exists(location(root))


def dump(root: Path) -> list[tuple[object, ...]]:
    people = query(
        location(root), "SELECT email, first_name, last_name, ward, tags, status, consented_at FROM subscribers"
    )
    events = query(location(root), "SELECT email, kind, source, detail FROM consent_events")
    return sorted(people) + sorted(events)


def consented(root: Path) -> dict[str, str]:
    return dict(query(location(root), "SELECT email, consented_at FROM subscribers"))


@both
def test_a_uk_spreadsheet_imports_everyone_day_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "office")
    dates = ["03/04/2018", "3/4/18", "03-04-2018", "03.04.2018", "2018-04-03", "3 Apr 2018", "2018-04-03T09:30:00"]
    rows = [[f"p{i}@example.org", "P", "", "", "", value] for i, value in enumerate(dates)]
    path = write_csv(root / "uk.csv", HEADER, rows)
    code, out, err = run(root, capsys, "subscribers", "import", str(path))
    assert code == 0, err
    assert f"{len(dates)} added" in out and "0 skipped" in out
    assert set(consented(root).values()) == {"2018-04-03"}


@both
def test_date_format_says_month_first_or_iso(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "office")
    path = write_csv(root / "us.csv", HEADER, [["a@example.org", "A", "", "", "", "04/03/2018"]])
    assert run(root, capsys, "subscribers", "import", str(path), "--date-format", "mdy")[0] == 0
    assert consented(root) == {"a@example.org": "2018-04-03"}
    other = write_csv(root / "pattern.csv", HEADER, [["b@example.org", "B", "", "", "", "2018|03|04"]])
    assert run(root, capsys, "subscribers", "import", str(other), "--date-format", "%Y|%d|%m")[0] == 0
    assert consented(root)["b@example.org"] == "2018-04-03"
    iso = write_csv(root / "iso.csv", HEADER, [["c@example.org", "C", "", "", "", "03/04/2018"]])
    code, _out, err = run(root, capsys, "subscribers", "import", str(iso), "--date-format", "iso")
    assert code == 2 and f"{iso}:2: consented_at: '03/04/2018': not an ISO date" in err
    code, _out, err = run(root, capsys, "subscribers", "import", str(iso), "--date-format", "%d/%m")
    assert code == 2 and err.count("error:") == 1 and "--date-format: the pattern '%d/%m' has no %Y" in err


@both
def test_unreadable_rows_stop_the_import_every_one_listed_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "office")
    rows = [
        ["ok@example.org", "Ok", "", "", "", "25/12/2018"],
        ["feb@example.org", "Feb", "", "", "", "31/02/2020"],
        ["nope", "No", "", "", "", "2019-01-01"],
        ["word@example.org", "Word", "", "", "", "yesterday"],
        ["none@example.org", "None", "", "", "", ""],
    ]
    path = write_csv(root / "list.csv", HEADER, rows)
    code, out, err = run(root, capsys, "subscribers", "import", str(path))
    lines = err.splitlines()
    assert code == 2 and out == "" and "Traceback" not in err
    assert lines[:3] == [
        f"error: {path}:3: consented_at: '31/02/2020': there is no day 31 in February 2020",
        f"error: {path}:4: email: 'nope': An email address must have an @-sign.",
        f"error: {path}:5: consented_at: 'yesterday': not a date (expected day/month/year such as 03/04/2018,"
        " or 2018-04-03)",
    ]
    assert lines[3].startswith("hint: nothing was imported: 3 rows") and "--skip-invalid" in lines[3]
    assert len(lines) == 4
    assert not created(root)


@both
def test_skip_invalid_imports_the_rest_counts_the_skipped_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "office")
    rows = [["ok@example.org", "Ok", "", "", "", "25/12/2018"], ["bad@example.org", "Bad", "", "", "", "2018-13-01"]]
    path = write_csv(root / "list.csv", HEADER, rows)
    code, out, err = run(root, capsys, "subscribers", "import", str(path), "--skip-invalid")
    assert code == 1, err
    assert "1 added" in out and "1 skipped, 1 unreadable value" in out and "1 unreadable rows skipped" in out
    assert "consented_at: '2018-13-01'" in out
    assert consented(root) == {"ok@example.org": "2018-12-25"}


@both
def test_a_month_first_date_makes_the_lists_either_way_dates_doubtful(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "office")
    rows = [
        ["a@example.org", "A", "", "", "", "03/04/2018"],
        ["b@example.org", "B", "", "", "", "12/25/2018"],
        ["c@example.org", "C", "", "", "", "05/05/2018"],
    ]
    path = write_csv(root / "list.csv", HEADER, rows)
    code, _out, err = run(root, capsys, "subscribers", "import", str(path))
    assert code == 2
    assert f"{path}:2: consented_at: '03/04/2018': ambiguous: 3 April 2018, or month first as line 3" in err
    assert f"{path}:3: consented_at: '12/25/2018': not day/month/year: there is no month 25" in err
    assert f"{path}:4:" not in err  # 05/05 reads the same either way
    assert run(root, capsys, "subscribers", "import", str(path), "--date-format", "mdy")[0] == 0
    assert consented(root) == {
        "a@example.org": "2018-03-04",
        "b@example.org": "2018-12-25",
        "c@example.org": "2018-05-05",
    }


@both
def test_a_name_column_is_split_and_unknown_columns_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "office")
    header = ["Email", "Name", "Phone", "Consented At", "Notes"]
    rows = [
        ["ann@example.org", "Ann Marie Smith", "0161 000", "01/02/2019", "x"],
        ["bob@example.org", "Bob", "", "01/02/2019", ""],
    ]
    path = write_csv(root / "list.csv", header, rows)
    code, out, err = run(root, capsys, "subscribers", "import", str(path))
    assert code == 0, err
    assert "name: split into first and last name" in out
    assert "columns not imported: 'phone', 'notes'" in out
    names = query(location(root), "SELECT email, first_name, last_name FROM subscribers ORDER BY email")
    assert names == [("ann@example.org", "Ann Marie", "Smith"), ("bob@example.org", "Bob", "")]


@both
def test_a_name_column_beside_first_name_is_refused_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "office")
    path = write_csv(
        root / "list.csv", ["email", "name", "last_name", "consented_at"], [["a@example.org", "A B", "B", "2019-01-01"]]
    )
    code, _out, err = run(root, capsys, "subscribers", "import", str(path))
    assert code == 2 and err.count("error:") == 1
    assert f"error: {path}:1: both a 'name' column and 'last_name'" in err and "hint: delete or rename" in err
    assert not created(root)


@both
def test_an_export_of_every_status_imports_only_the_subscribed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path / "office")
    rows = [
        ["a@example.org", "A", "", "", "", "2019-01-01", "subscribed"],
        ["b@example.org", "B", "", "", "", "2019-01-01", "unsubscribed"],
        ["c@example.org", "C", "", "", "", "2019-01-01", "pending"],
    ]
    path = write_csv(root / "export.csv", [*HEADER, "status"], rows)
    code, out, err = run(root, capsys, "subscribers", "import", str(path))
    assert code == 0, err
    assert "1 added" in out and "2 no consent" in out and "columns not imported" not in out
    assert list(consented(root)) == ["a@example.org"]


def test_a_one_off_send_reads_day_first_and_reports_bad_rows_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import REPO

    root = tmp_path / "office"
    for name in ("issues", "articles", "templates", "images"):
        __import__("shutil").copytree(REPO / name, root / name)
    rows = [["uk@example.org", "Uk", "", "", "", "03/04/2018"], ["bad@example.org", "Bad", "", "", "", "31/02/2018"]]
    path = write_csv(root / "one-off.csv", HEADER, rows)
    code, out, err = run(root, capsys, "send", "spring-2018", "--dry-run", "--subscribers", str(path))
    assert code == 0, err
    assert "1 would be sent" in out, out
    words = " ".join(out.split())  # the table of skipped rows wraps at the terminal's width
    assert "bad@example.org" in words and "there is no day 31 in February 2018" in words, out


GATE_CASES = [
    ("03/04/2018", "dmy", "2018-04-03"),
    ("3/4/18", "dmy", "2018-04-03"),
    ("3.4.99", "dmy", "1999-04-03"),  # two digits: this century unless that is in the future
    ("03-Apr-18", "dmy", "2018-04-03"),
    ("April 3, 2018", "dmy", "2018-04-03"),
    ("2018/4/3", "mdy", "2018-04-03"),  # year first reads one way only
    ("2018-04-03 10:15", "iso", "2018-04-03"),
    ("04/03/2018", "mdy", "2018-04-03"),
    ("03/04/2018", "iso", "not an ISO date"),
    ("13/25/2018", "mdy", "not month/day/year: there is no month 13"),
    ("29/02/2019", "dmy", "there is no day 29 in February 2019"),
    ("0000-01-01", "dmy", "there is no year 0"),
    (f"01/01/{TODAY.year + 1}", "dmy", f"{TODAY.year + 1}-01-01 is in the future"),
    ("3 Smarch 2018", "dmy", "'Smarch' is not the name of a month"),
    ("2018-04-03junk", "dmy", "not a date"),
    ("03/04/2018", "%Y-%d-%m", "does not match --date-format '%Y-%d-%m'"),
]


@pytest.mark.parametrize(("text", "order", "expect"), GATE_CASES)
def test_the_date_gate_reads_or_says_why(text: str, order: str, expect: str) -> None:
    try:
        found = read_date(text, date_format(order)).isoformat()
    except ValueError as exc:
        found = str(exc)
    assert found.startswith(expect), found


# --- properties ------------------------------------------------------------------------------

DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)


@given(day=DATES, separator=st.sampled_from("/-."), short=st.booleans())
def test_a_day_first_date_round_trips(day: dt.date, separator: str, short: bool) -> None:
    if short and day.year > TODAY.year - 100:  # two digits name the last hundred years
        text = f"{day.day}{separator}{day.month}{separator}{day.year % 100:02d}"
    else:
        text = f"{day.day:02d}{separator}{day.month:02d}{separator}{day.year}"
    assert read_date(text) == day
    month_first = f"{day.month:02d}{separator}{day.day:02d}{separator}{day.year}"
    assert read_date(month_first, date_format("mdy")) == day
    assert read_date(day.isoformat(), date_format("iso")) == day


@settings(max_examples=25)  # each example imports into a durable database file
@given(day=DATES, separator=st.sampled_from("/-."))
def test_a_day_first_date_round_trips_through_the_cli(
    tmp_path_factory: pytest.TempPathFactory, day: dt.date, separator: str
) -> None:
    root = make_project(tmp_path_factory.mktemp("office"))
    text = f"{day.day:02d}{separator}{day.month:02d}{separator}{day.year}"
    path = write_csv(root / "list.csv", HEADER, [["a@example.org", "A", "", "", "", text]])
    assert main(["--project", str(root), "subscribers", "import", str(path)]) == 0
    assert consented(root) == {"a@example.org": day.isoformat()}


def unreadable(text: str) -> bool:
    try:
        read_date(text)
    except ValueError:
        return True
    return False


BAD_VALUES = st.one_of(
    st.sampled_from(["31/02/2020", "12/25/2018", "2018-13-01", "yesterday", "3 Foo 2018", "00/00/0000", "01/01/2999"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=20),
).filter(lambda text: bool(text.strip()) and unreadable(text))


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])  # capsys is read each time
@given(
    good=st.lists(st.tuples(DATES, st.booleans()), min_size=1, max_size=6),
    bad=BAD_VALUES,
    where=st.integers(min_value=0, max_value=6),
    existing=st.booleans(),
)
def test_a_bad_value_is_one_line_naming_file_and_line_exit_2_and_the_database_is_unchanged(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    good: list[tuple[dt.date, bool]],
    bad: str,
    where: int,
    existing: bool,
) -> None:
    root = make_project(tmp_path_factory.mktemp("office"))
    before: list[tuple[object, ...]] = []
    if existing:
        base = write_csv(root / "base.csv", HEADER, [["kept@example.org", "Kept", "", "", "", "2019-01-01"]])
        assert run(root, capsys, "subscribers", "import", str(base))[0] == 0
        before = dump(root)
    # Good rows: ISO, or day first where the day cannot be a month (so the bad row alone is doubtful).
    rows = [
        [f"p{i}@example.org", "P", "", "", "", d.isoformat() if iso or d.day <= 12 else f"{d.day}/{d.month}/{d.year}"]
        for i, (d, iso) in enumerate(good)
    ]
    at = min(where, len(rows))
    rows.insert(at, ["bad@example.org", "Bad", "", "", "", bad])
    path = write_csv(root / "list.csv", HEADER, rows)
    code, out, err = run(root, capsys, "subscribers", "import", str(path))
    lines = err.splitlines()
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(lines) == 2, err
    assert lines[0].startswith(f"error: {path}:{2 + at}: consented_at: ")
    assert lines[1].startswith("hint: nothing was imported: 1 row of")
    if existing:
        assert dump(root) == before
    else:
        assert not (root / ".newsletter").exists()
