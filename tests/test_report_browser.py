"""The report as a page, in real headless Chromium (Debian's): the file `newsletter report --html`
writes and the staff pages of `newsletter preview` (/report, /report/ISSUE) render with no axe
violations, fetch nothing, and show the same numbers as `newsletter report --format json`. The
public app of `newsletter serve`, on the same database, answers 404 for those paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request

from newsletter.reports.figures import ISSUE_COLUMNS, ROUTE_LABELS, SEND_COLUMNS
from tests.conftest import Run
from tests.support.axe import axe_violations, describe
from tests.support.browser import preview
from tests.support.known_send import known_send
from tests.support.web import call, web_app

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def requests_seen() -> list[Request]:
    return []


@pytest.fixture
def page(chromium: Browser, requests_seen: list[Request]) -> Iterator[Page]:
    """A fresh page (axe injected past the page's CSP); requests leaving the machine are refused."""
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    opened = context.new_page()
    opened.on("request", lambda request: requests_seen.append(request))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def shown_rows(page: Page) -> list[list[str]]:
    """The rows of the page's first table (body and foot), cell by cell, as the browser shows them."""
    rows: list[list[str]] = page.eval_on_selector_all(
        "main table >> nth=0",
        "tables => [...tables[0].querySelectorAll('tbody tr, tfoot tr')]"
        ".map(tr => [...tr.children].map(cell => cell.textContent.trim()))",
    )
    return rows


def expected_rows(figures: list[dict[str, str]], columns: tuple[str, ...]) -> list[list[str]]:
    return [[row[c] for c in columns] for row in figures]


def check_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert page.locator("html").get_attribute("lang") == "en"
    for chart in page.locator("svg[role=img]").all():  # each chart says what it shows, in words
        labels = (chart.get_attribute("aria-labelledby") or "").split()
        assert len(labels) == 2 and all(page.locator(f"#{name}").count() == 1 for name in labels)


def test_the_report_pages_show_the_terminal_figures(
    project: Path, run_cli: Run, page: Page, requests_seen: list[Request]
) -> None:
    database = project / ".newsletter" / "newsletter.sqlite3"
    known_send(project, run_cli, database)
    figures = json.loads(run_cli("report", "spring-2016", "--format", "json").stdout)
    sends = json.loads(run_cli("report", "--format", "json").stdout)
    written = run_cli("report", "spring-2016", "--html", "report.html")
    assert written.returncode == 0, written.stderr

    page.goto((project / "report.html").as_uri())
    assert page.locator("h1").inner_text() == "How spring-2016 did"
    assert shown_rows(page) == expected_rows(figures, ISSUE_COLUMNS)
    assert page.locator("svg[role=img]").count() == 3
    by_day = page.eval_on_selector_all("details tbody tr", "rows => rows.map(r => r.textContent)")
    assert [n for n, text in enumerate(by_day) if text != f"{n}0"] == [0, 1, 10]
    assert "+2 since spring-2018 (18)" in page.locator("main").inner_text()
    check_accessible(page)
    assert [r.url for r in requests_seen] == [(project / "report.html").as_uri()], "self-contained: nothing fetched"

    with preview(project, "spring-2016") as running:
        page.goto(running.url + "report")
        listed = [{**r, "route": ROUTE_LABELS[r["route"]]} for r in sends]
        assert [row[1:] for row in shown_rows(page)] == [r[1:] for r in expected_rows(listed, SEND_COLUMNS)]
        check_accessible(page)
        page.get_by_role("link", name="spring-2016").click()
        page.wait_for_url(running.url + "report/spring-2016")
        assert shown_rows(page) == expected_rows(figures, ISSUE_COLUMNS)
        check_accessible(page)
        status, headers, body = running.get("/report/spring-2061")
        assert status == 404 and b"spring-2061: no send of this issue is recorded" in body
        status, headers, _ = running.get("/report")
        assert "script-src" not in headers["content-security-policy"]
        assert running.get("/report", host="evil.example:80")[0] == 403
    assert all(r.url.startswith(("file://", running.url)) for r in requests_seen)

    app = web_app(project, database)
    for path in ("/report", "/report/", "/report/spring-2016"):
        assert call(app, "GET", path).code == 404, f"{path} is not on the public site"
