"""Segments: the issue's `audience:` (any of its wards or tags), `--ward`/`--tag` narrowing
further, suppressions; unit tests on `target()` and the real send writing exactly those rows.
The tests that read the database (suppressions, the send) run on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.audience.csvfile import load_audience
from newsletter.audience.people import Subscriber
from newsletter.audience.targeting import NOT_IN_SEGMENT, SUPPRESSED, target
from newsletter.content.issue import load_issue
from newsletter.errors import InputError
from newsletter.store import Location, exists, suppressions
from tests.conftest import REAL_SETTINGS, Run

HEATONS = {
    "margaret.hughes@example.org",
    "helen.taylor@example.org",  # Heatons North
    "p.greenhalgh@example.org",
    "amina.hussain@example.com",
}  # Heatons South
SCHOOLS = {
    "zoe.brennan@example.org",
    "p.shah@example.com",
    "amina.hussain@example.com",
    "sarah.pemberton@example.org",
    "w.bancroft@example.com",
}


def with_audience(project: Path, audience_yaml: str) -> Path:
    path = project / "issues" / "spring-2018.yaml"
    path.write_text(path.read_text(encoding="utf-8") + audience_yaml, encoding="utf-8")
    return path


def emails(subscribers: list[Subscriber]) -> set[str]:
    return {s.email for s in subscribers}


def test_no_audience_means_everyone_who_consented(project: Path) -> None:
    audience = load_audience(project / "subscribers.example.csv")
    result = target(audience, load_issue(project / "issues" / "spring-2018.yaml"))
    assert emails(result.subscribers) == emails(audience.subscribers)


def test_wards_or_tags_any_of_case_insensitive(project: Path) -> None:
    yaml_text = "audience:\n  wards: [heatons north, HEATONS  SOUTH]\n  tags: [Schools]\n"
    issue = load_issue(with_audience(project, yaml_text))
    result = target(load_audience(project / "subscribers.example.csv"), issue)
    assert emails(result.subscribers) == HEATONS | SCHOOLS
    left_out = [s for s in result.skipped if s.reason == NOT_IN_SEGMENT]
    assert len(left_out) == 18 - len(HEATONS | SCHOOLS)
    assert all("the issue targets ward heatons north or heatons south, tag schools" in s.detail for s in left_out)


def test_command_line_narrows_further(project: Path) -> None:
    issue = load_issue(with_audience(project, "audience:\n  wards: [Heatons North, Heatons South]\n"))
    audience = load_audience(project / "subscribers.example.csv")
    assert emails(target(audience, issue, tags=["schools"]).subscribers) == {"amina.hussain@example.com"}
    narrowed = target(audience, issue, wards=["Heatons North"], tags=["events"])
    assert emails(narrowed.subscribers) == {"helen.taylor@example.org"}


def test_a_ward_that_matches_nobody_is_an_error_naming_the_file_and_line(project: Path) -> None:
    issue = load_issue(with_audience(project, "audience:\n  wards: [Heaton Nrth]\n"))
    with pytest.raises(
        InputError,
        match=r"spring-2018.yaml:\d+: audience wards: 'Heaton Nrth' matches nobody"
        r" in the subscriber list; did you mean 'Heatons North'\?$",
    ):
        target(load_audience(project / "subscribers.example.csv"), issue)


def test_a_command_line_tag_that_matches_nobody_is_an_error(project: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"^--tag: 'school' matches nobody in the subscriber list; did you mean "
        r"'schools'",
    ):
        target(
            load_audience(project / "subscribers.example.csv"),
            load_issue(project / "issues" / "spring-2018.yaml"),
            tags=["school"],
        )


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("audience:\n  ward: [Manor]\n", "unknown key 'ward' under audience"),
        ("audience:\n  wards: 3\n", "audience 'wards' must be a list of names"),
        ("audience:\n  wards: []\n", "names no wards or tags"),
    ],
)
def test_a_malformed_audience_names_the_line(project: Path, yaml_text: str, message: str) -> None:
    issue = load_issue(with_audience(project, yaml_text))
    lines = (project / "issues" / "spring-2018.yaml").read_text(encoding="utf-8").splitlines()
    line = lines.index("audience:") + 1
    with pytest.raises(InputError, match=rf"spring-2018.yaml:{line}: .*{message}"):
        target(load_audience(project / "subscribers.example.csv"), issue)


def test_suppressed_addresses_are_skipped_whatever_the_csv_says(project: Path, database: Location) -> None:
    journal = database
    db = suppressions.connect(journal)
    suppressions.add(db, "D.Okafor@Example.com", "hard-bounce", "bounces test.mbox", "550 5.1.1")
    db.close()
    result = target(
        load_audience(project / "subscribers.example.csv"),
        load_issue(project / "issues" / "spring-2018.yaml"),
        journal_path=journal,
    )
    assert "d.okafor@example.com" not in emails(result.subscribers)
    [skipped] = [s for s in result.skipped if s.reason == SUPPRESSED]
    assert skipped.email == "d.okafor@example.com" and skipped.detail.startswith("hard-bounce (bounces test.mbox")


def test_no_journal_file_is_no_suppressions_and_creates_nothing(project: Path, database: Location) -> None:
    journal = database  # a file not yet made, or a PostgreSQL database without our tables
    result = target(
        load_audience(project / "subscribers.example.csv"),
        load_issue(project / "issues" / "spring-2018.yaml"),
        journal_path=journal,
    )
    assert len(result.subscribers) == 18 and not exists(journal)


@pytest.mark.usefixtures("on_each_backend")
def test_a_segment_sends_to_exactly_the_right_rows(project: Path, run_cli: Run) -> None:
    with_audience(project, "audience:\n  wards: [Heatons North, Heatons South]\n  tags: [schools]\n")
    dry = run_cli("send", "spring-2018", "--subscribers", "subscribers.example.csv", "--dry-run", env=REAL_SETTINGS)
    assert dry.returncode == 0, dry.stderr
    assert f"{len(HEATONS | SCHOOLS)} to send to" in dry.stdout and "not in segment" in dry.stdout
    result = run_cli(
        "send",
        "spring-2018",
        "--subscribers",
        "subscribers.example.csv",
        "--outbox",
        "out",
        "--ward",
        "Heatons South",
        "--yes",
        env=REAL_SETTINGS,
    )
    assert result.returncode == 0, result.stderr
    sent = {p.stem for p in (project / "out").glob("*.eml")}
    assert sent == {"p.greenhalgh@example.org", "amina.hussain@example.com"}
