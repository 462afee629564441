"""Output gates: the terminal never reads data as markup; a CSV export never holds a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.table import Table

from newsletter.cli.console import TextConsole, printable, styled
from newsletter.gates.cells import FORMULA_START, cell, csv_bytes, restore
from newsletter.store import suppressions
from newsletter.store.database import transaction
from tests.conftest import Run
from tests.hostile.strategies import hostile_text
from tests.support.postgres import Cluster

MARKUP = [
    "[/]",
    "[bold red]x[/]",
    "[link=https://evil.example.net]click[/link]",
    ":smile:",
    "[/bold]",
    "\x1b[2J",
    "\x1b]8;;https://evil.example.net\x07x\x1b]8;;\x07",
    "\u202eevil",
]


def render(*objects: object) -> str:
    console = TextConsole(
        file=io.StringIO(), width=200, color_system=None, highlight=False, soft_wrap=True, markup=False, emoji=False
    )
    console.print(*objects)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


@given(hostile_text())
def test_the_terminal_prints_data_as_text(value: str) -> None:
    output = render(f"failed {value}")
    assert " ".join(printable(value).split()) in " ".join(output.split())
    assert "\x1b" not in output and "\x07" not in output


@given(st.lists(hostile_text(), min_size=1, max_size=4))
def test_a_table_of_data_is_text(values: list[str]) -> None:
    table = Table(*[f"c{i}" for i in range(len(values))], box=None)
    table.add_row(*values)
    output = render(table)
    assert "\x1b" not in output and "\x07" not in output
    if sum(len(v) for v in values) < 60:  # wider tables are cut to the terminal
        for value in values:
            for word in printable(value).split():
                assert word in output


def test_markup_and_escapes_are_shown_not_obeyed() -> None:
    for value in MARKUP:
        output = render(value)
        assert printable(value) in output, value
    assert render(styled(("error:", "bold red"), " [/] in a name")) == "error: [/] in a name\n"


@given(st.lists(st.lists(st.one_of(hostile_text(), st.integers()), min_size=3, max_size=3), max_size=5))
def test_no_formula_reaches_a_spreadsheet_and_values_round_trip(rows: list[list[object]]) -> None:
    data = csv_bytes(["a", "b", "c"], rows)
    read = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(read) == len(rows) + 1
    for got, given_row in zip(read[1:], rows, strict=True):
        assert not any(value.startswith(FORMULA_START) for value in got)
        assert [restore(value) for value in got] == [str(value) for value in given_row]


def test_formula_cells_get_a_leading_quote() -> None:
    assert restore(cell("'=1")) == "'=1" and restore(cell("'plain")) == "'plain"
    assert [cell(v) for v in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\uff1dx", "plain", 3]] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "'\uff1dx",
        "plain",
        "3",
    ]


def test_suppressions_export_neutralises_a_bounce_detail_and_imports_back(
    project: Path, run_cli: Run, on_each_backend: Path | str, request: pytest.FixtureRequest
) -> None:
    """On each backend: the detail is stored as written and neutralised only in the CSV."""
    run_cli("unsubscribe", "kept@example.org")
    db = suppressions.connect(on_each_backend)
    detail = '=HYPERLINK("https://evil.example.net","click")'
    with transaction(db):
        suppressions.add(db, "-dash@example.org", "hard-bounce", "@relay", detail)
    db.close()
    assert run_cli("suppressions", "export", "out.csv").returncode == 0
    with (project / "out.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    bounced = next(r for r in records if "dash" in r["email"])
    assert (bounced["email"], bounced["source"], bounced["detail"]) == ("'-dash@example.org", "'@relay", "'" + detail)
    other = project / "other.sqlite3" if isinstance(on_each_backend, Path) else pg(request).new_database()
    env = {"NEWSLETTER_DATABASE": str(other)}
    assert run_cli("suppressions", "import", "out.csv", env=env).returncode == 0
    listed = run_cli("suppressions", "list", env=env).stdout
    assert "-dash@example.org" in listed and "'-dash" not in listed


def pg(request: pytest.FixtureRequest) -> Cluster:
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster


def test_a_name_with_markup_is_printed_as_text(project: Path, run_cli: Run) -> None:
    (project / "list.csv").write_text(
        "email,first_name,consented_at\n[/]@example.org,[bold]x,2018-01-01\nbad,:smile: [/],2018-01-01\n",
        encoding="utf-8",
    )
    result = run_cli("subscribers", "check", "list.csv")
    assert result.returncode == 0, result.stderr
    assert "[/]@example.org" in result.stdout and "Traceback" not in result.stderr
    assert "\\[" not in result.stdout  # shown as written: no markup escaping left visible
