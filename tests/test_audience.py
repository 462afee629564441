"""The subscriber CSV: BOM, whitespace, `;`, blank lines, bad rows reported by line, consent."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from newsletter.audience.csvfile import load_audience
from newsletter.audience.people import DUPLICATE, INVALID, NO_CONSENT, UNREADABLE
from tests.conftest import REPO, Run


def write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_example_list_loads() -> None:
    audience = load_audience(REPO / "subscribers.example.csv")
    assert audience.rows >= 18
    assert audience.counts()[NO_CONSENT] >= 1
    assert all(s.email.endswith(("example.org", "example.com")) for s in audience.subscribers)


def test_bom_whitespace_semicolons_blank_lines(tmp_path: Path) -> None:
    text = (
        " Email ; First_Name ;last_name;ward;tags;consented_at\r\n"
        "\r\n"
        "  ann@example.org ;  Ann ; Smith ; Manor ; news,schools ; 2018-01-02 \r\n"
        "\r\n"
        "bob@example.com;Bob;;Heatons North;;2019-05-06T10:00:00\r\n"
    )
    audience = load_audience(write(tmp_path, text, bom=True))
    assert [s.email for s in audience.subscribers] == ["ann@example.org", "bob@example.com"]
    ann = audience.subscribers[0]
    assert (ann.first_name, ann.last_name, ann.ward, ann.tags) == ("Ann", "Smith", "Manor", ("news", "schools"))
    assert ann.consented_at == dt.date(2018, 1, 2)
    assert ann.line == 3
    assert audience.subscribers[1].line == 5
    assert audience.skipped == []


def test_bad_rows_are_reported_with_lines_and_good_rows_kept(tmp_path: Path) -> None:
    text = (
        "email,first_name,last_name,ward,tags,consented_at\n"
        "good@example.org,Good,,,,2018-01-01\n"
        "not-an-address,Bad,,,,2018-01-01\n"
        "GOOD@Example.org,Again,,,,2018-01-01\n"
        "noconsent@example.org,No,,,,\n"
        "baddate@example.org,Date,,,,yesterday\n"
        "two@@example.org,Two,,,,2018-01-01\n"
        '"multi\nline@example.org",X,,,,2018-01-01\n'
        "last@example.com,Last,,,,2018-01-01\n"
    )
    audience = load_audience(write(tmp_path, text))
    assert [s.email for s in audience.subscribers] == ["good@example.org", "last@example.com"]
    assert audience.subscribers[1].line == 10
    skipped = {(s.line, s.reason) for s in audience.skipped}
    assert skipped == {(3, INVALID), (4, DUPLICATE), (5, NO_CONSENT), (6, UNREADABLE), (7, INVALID), (8, INVALID)}
    duplicate = next(s for s in audience.skipped if s.reason == DUPLICATE)
    assert "line 2" in duplicate.detail


def test_names_are_data(tmp_path: Path) -> None:
    text = (
        "email,first_name,last_name,consented_at\n"
        'bob@example.org,"Bob\r\nBcc: victim@example.com",<b>X</b>,2018-01-01\n'
    )
    subscriber = load_audience(write(tmp_path, text)).subscribers[0]
    assert "\r" not in subscriber.first_name and "\n" not in subscriber.first_name
    assert subscriber.first_name == "Bob Bcc: victim@example.com"
    assert subscriber.last_name == "<b>X</b>"  # escaped when rendered, not altered here


def test_subscribers_check_reports_every_skipped_row(project: Path, run_cli: Run) -> None:
    (project / "list.csv").write_text(
        "email,first_name,consented_at\nok@example.org,Ok,2018-01-01\nnope,No,2018-01-01\nok@example.org,Ok,2018-01-01\n"
    )
    result = run_cli("subscribers", "check", "list.csv")
    assert result.returncode == 0, result.stderr
    assert "3 rows, 1 to send to" in result.stdout
    assert "1 duplicate" in result.stdout and "1 invalid address" in result.stdout
    # Each skipped row is listed with its line in the file and why.
    assert re.search(r"^3 +nope +invalid address", result.stdout, re.M), result.stdout
    assert re.search(r"^4 +ok@example\.org +duplicate: same address as line 2", result.stdout, re.M), result.stdout
