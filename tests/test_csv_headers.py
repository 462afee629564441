"""A CSV header that names a column twice is refused in one line, not read by its last copy:
`subscribers import`, `subscribers check` and `suppressions import` through the real CLI, on a
real SQLite file and a real PostgreSQL server, and a property over any header a stranger types."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.csvfile import READ, read_rows
from newsletter.errors import InputError
from newsletter.store import Location, exists
from tests.conftest import Run
from tests.support.db import query


@pytest.mark.usefixtures("on_each_backend")
def test_a_repeated_subscriber_column_is_refused_and_nothing_is_imported(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    # Case and spaces differ; the reader normalises both, so both are the ward column.
    (project / "two.csv").write_text(
        "email,Ward,consented_at, ward \nann@example.org,Manor,2024-01-02,Riverside\n", encoding="utf-8"
    )
    for command in (("subscribers", "import", "two.csv"), ("subscribers", "check", "two.csv")):
        result = run_cli(*command)
        assert result.returncode == 2, result.stderr
        first = result.stderr.splitlines()[0]
        assert first.startswith("error: two.csv:1: columns 2 and 4 are both 'ward'"), result.stderr
        assert "Traceback" not in result.stderr
    assert not exists(on_each_backend) or query(on_each_backend, "SELECT email FROM subscribers", ()) == []


@pytest.mark.usefixtures("on_each_backend")
def test_a_repeated_suppression_column_is_refused_and_nothing_is_added(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    (project / "two.csv").write_text("email,reason,REASON\nann@example.org,manual,complaint\n", encoding="utf-8")
    result = run_cli("suppressions", "import", "two.csv")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0].startswith("error: two.csv:1: columns 2 and 3 are both 'reason'"), (
        result.stderr
    )
    assert not exists(on_each_backend) or query(on_each_backend, "SELECT email FROM suppressions", ()) == []


def test_columns_nobody_reads_may_repeat(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("email,notes,notes,,\nann@example.org,a,b,,\n", encoding="utf-8")
    assert [row.email for row in read_rows(path)] == ["ann@example.org"]  # type: ignore[union-attr]


HEADING = st.one_of(st.sampled_from([*READ, "Email", " WARD ", "First Name", "notes", ""]), st.text(max_size=12))


@given(headings=st.lists(HEADING, min_size=1, max_size=8))
def test_any_header_is_read_with_each_column_once_or_refused_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, headings: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("header")
    path = folder / "list.csv"
    quoted = ",".join('"' + h.replace('"', '""') + '"' for h in headings)
    path.write_text(quoted + "\nann@example.org\n", encoding="utf-8", newline="")
    try:
        names = read_rows(path).header.names
    except InputError as exc:
        assert str(exc).startswith(f"{path}:") and "\n" not in str(exc)
        return
    read = [name for name in names if name in READ]
    assert len(read) == len(set(read))
