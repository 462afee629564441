"""One entry point for `newsletter report` and the preview's report pages: the figures as rows
(for the terminal, CSV or JSON), the lines that head them, and the same as an HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import InputError
from newsletter.fileio import write_atomic
from newsletter.reports import page
from newsletter.reports.figures import ISSUE_COLUMNS, ROUTE_LABELS, SEND_COLUMNS, IssueFigures, issue_figures, send_rows
from newsletter.sending.status import ROUTE_NAMES
from newsletter.store import Location
from newsletter.store.connection import shown


@dataclass(frozen=True)
class Report:
    """What `newsletter report` shows: heading lines, the columns and rows, the HTML page."""

    lines: list[str]
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    html: bytes
    total: dict[str, str] | None = None  # an issue's line for all editions together

    @property
    def listed(self) -> list[dict[str, str]]:
        """Every row, the total last: what CSV and JSON carry."""
        return [*self.rows, *([self.total] if self.total else [])]

    @property
    def shown(self) -> list[dict[str, str]]:
        """The rows as a person reads them (the terminal, the page): routes named in words."""
        return [
            {**row, **({"route": ROUTE_LABELS.get(row["route"], row["route"])} if "route" in row else {})}
            for row in self.listed
        ]


def build_report(location: Location, issue: str | None, *, link: page.Link = lambda _slug: None) -> Report:
    """Every send (no `issue`), or one issue's figures per ward edition; one line, exit 2, for an
    issue never sent. Reads only: a database that is not there is never created."""
    if issue is None:
        rows = send_rows(location)
        lines = [
            f"{len(rows)} sends recorded in {shown(location)}" if rows else f"no send recorded in {shown(location)}"
        ]
        return Report(lines, SEND_COLUMNS, [r.row() for r in rows], page.sends_page(rows, link))
    figures = issue_figures(location, issue)
    return Report(
        _lines(figures),
        ISSUE_COLUMNS,
        [f.row() for f in figures.editions],
        page.issue_page(figures, link("")),
        figures.total.row(),
    )


def _lines(figures: IssueFigures) -> list[str]:
    route = ROUTE_NAMES.get(figures.route, figures.route)
    growth = f"{figures.subscribers:,} confirmed subscribers as it started"
    if figures.previous is not None and figures.growth is not None:
        growth += f" ({figures.growth:+,} since {figures.previous[0]}, {figures.previous[2]:,})"
    return [f"{figures.slug}: sent {route} from {figures.sent_at} UTC", growth]


def write_page(path: Path, html: bytes) -> None:
    """The page written whole or not at all (a temporary file renamed over `path`), as every
    export of the project is; an existing file is replaced."""
    try:
        write_atomic(path, html)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from exc
