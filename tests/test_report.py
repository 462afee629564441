"""`newsletter report`: its figures checked against a real send to an aiosmtpd relay with known
refusals, bounce mail, a complaint and unsubscribes at known times (tests/support/known_send.py),
on SQLite and PostgreSQL; every send listed with its route; an issue never sent is one line and
exit 2; a project with no database gets none from a report."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.reports.figures import EditionFigures, IssueFigures, issue_figures
from newsletter.reports.page import issue_page
from newsletter.store import Location, exists
from tests.conftest import REAL_SETTINGS, Run
from tests.support.known_send import known_send

pytestmark = pytest.mark.timeout(120)
HEATONS = "heatons-north+heatons-south"
REHEARSE = ("--yes", "--allow-missing-images")  # into the outbox folder: no SMTP_HOST
COUNTS = (
    "recipients",
    "delivered",
    "deferred",
    "hard_bounces",
    "soft_bounces",
    "complaints",
    "unsubscribed_7_days",
    "unsubscribed_30_days",
    "unknown",
)


def figures_row(edition: str, *counts: int) -> dict[str, str]:
    return {"edition": edition, **{name: str(count) for name, count in zip(COUNTS, counts, strict=True)}}


# What tests/support/known_send.py makes happen, edition by edition (see its docstring): 16 in
# the edition for everyone (the 14 imported outside the Heatons and the 2 added), 4 in the Heatons.
EXPECTED = [
    figures_row("everyone", 16, 14, 1, 2, 1, 0, 0, 1, 0),
    figures_row(HEATONS, 4, 3, 0, 1, 0, 1, 2, 2, 0),
    figures_row("all editions", 20, 17, 1, 3, 1, 1, 2, 3, 0),
]


def test_the_figures_of_a_send_with_known_outcomes(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    known_send(project, run_cli, on_each_backend)
    rehearsal = run_cli("send", "early-2019", "--out", "rehearsal", *REHEARSE, env=REAL_SETTINGS)
    assert rehearsal.returncode == 0, rehearsal.stderr

    result = run_cli("report", "spring-2016", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == EXPECTED
    text = run_cli("report", "spring-2016").stdout
    assert "spring-2016: sent through a relay (real mail)" in text
    assert "20 confirmed subscribers as it started (+2 since spring-2018, 18)" in text
    assert text.splitlines()[-2].split() == [HEATONS, "4", "3", "0", "1", "0", "1", "2", "2", "0"]
    by_day = issue_figures(on_each_backend, "spring-2016").unsubscribes_by_day
    assert {day: n for day, n in enumerate(by_day) if n} == {0: 1, 1: 1, 10: 1}

    listed = run_cli("report", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    columns = ("issue", "route", "audience", "delivered", "failed", "unknown", "status")
    rows = [tuple(r[c] for c in columns) for r in csv.DictReader(io.StringIO(listed.stdout))]
    assert rows == [
        ("spring-2018", "smtp", "18", "18", "0", "0", "complete"),
        ("spring-2016", "smtp", "20", "17", "3", "0", "complete"),
        ("early-2019", "outbox", "14", "14", "0", "0", "complete"),  # 20 less the 6 suppressed since
    ]
    assert "into the outbox folder (a rehearsal" in run_cli("report", "early-2019").stdout


def test_an_issue_never_sent_is_one_line_and_nothing_is_created(
    project: Path, run_cli: Run, on_each_backend: Location
) -> None:
    result = run_cli("report", "spring-2061")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: spring-2061: no send of this issue is recorded in"), result.stderr
    listed = run_cli("report")
    assert listed.returncode == 0 and listed.stdout.startswith("no send recorded in"), listed.stderr
    assert not exists(on_each_backend) and not (project / ".newsletter").exists()


@pytest.mark.usefixtures("on_each_backend")
def test_a_typo_of_a_sent_issue_gets_a_suggestion(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "spring-2018", "--out", "out", *REHEARSE, env=REAL_SETTINGS).returncode == 0
    result = run_cli("report", "spring-2081")
    assert result.returncode == 2 and "did you mean 'spring-2018'?" in result.stderr


def test_an_html_file_that_cannot_be_written_is_one_line(project: Path, run_cli: Run) -> None:
    assert run_cli("send", "spring-2018", "--out", "out", *REHEARSE, env=REAL_SETTINGS).returncode == 0
    (project / "taken").write_text("a file, not a folder\n", encoding="utf-8")
    result = run_cli("report", "spring-2018", "--html", "taken/report.html")
    assert result.returncode == 2 and result.stderr.startswith("error: taken/report.html: cannot write"), result.stderr
    written = run_cli("report", "spring-2018", "--html", "pages/report.html")
    assert written.returncode == 0, written.stderr
    assert (project / "pages" / "report.html").read_bytes().startswith(b"<!DOCTYPE html>")
    assert [p.name for p in (project / "pages").iterdir()] == ["report.html"], "no temporary file left"


ALLOWED = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "a", "div", "table", "caption"}
ALLOWED |= {"thead", "tbody", "tfoot", "tr", "th", "td", "figure", "figcaption", "svg", "desc", "text", "rect", "line"}
ALLOWED |= {"details", "summary"}


class Tags(HTMLParser):
    """The tags of a page and its text, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_names_from_files_are_escaped_in_the_page(slug: str, edition: str) -> None:
    figures = EditionFigures(edition, recipients=3, delivered=2)
    page = issue_page(
        IssueFigures(slug, "smtp", "2026-01-01 09:00", [figures], figures, [0] * 30, 5, (slug, "2025-12-01 09:00", 4))
    ).decode()
    seen = Tags()
    seen.feed(page)
    assert seen.tags <= ALLOWED, "no tag but the page's own"
    assert f"How {slug} did" in seen.text and edition in seen.text
