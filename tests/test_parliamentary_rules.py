"""Parliamentary rules (issue 21): no send to the list during an election period unless overridden
with a reason (kept in the audit log); the digital imprint in every message and archive page;
casework contacts kept out of the newsletter without consent of their own. The real CLI, a real
relay (aiosmtpd) and the real database."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter import audit
from newsletter.audience.csvfile import read_rows
from newsletter.audience.people import CASEWORK, Skipped
from newsletter.errors import ConfigError
from newsletter.gates.election import DISSOLUTION, POLLING_DAY, election_period, uk_today
from newsletter.store import Location, connect
from tests.conftest import REAL_SETTINGS, Run
from tests.support.sending import addresses, subscriber_csv
from tests.support.smtpd import Server

IMPRINT = "Promoted by Jo Bloggs on behalf of Ann Coffey, both of 12 Test Row, Stockport SK1 3XE"


def relay(server: Server, **more: str) -> dict[str, str]:
    return {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none", **more}


def in_period() -> dict[str, str]:
    """An election period around today (two days either side: no test depends on the hour)."""
    today = uk_today()
    return {
        DISSOLUTION: (today - dt.timedelta(days=2)).isoformat(),
        POLLING_DAY: (today + dt.timedelta(days=2)).isoformat(),
    }


def send_list(run_cli: Run, env: dict[str, str], *extra: str) -> tuple[int, str]:
    result = run_cli(
        "send", "spring-2018", "--subscribers", "list.csv", "--yes", "--allow-missing-images", *extra, env=env
    )
    return result.returncode, result.stderr


def test_a_send_in_the_election_period_is_refused_naming_both_dates(project: Path, run_cli: Run) -> None:
    subscriber_csv(project / "list.csv", addresses(3, "example.org"))
    period = in_period()
    with Server() as server:
        code, stderr = send_list(run_cli, relay(server, **period))
    assert code == 2 and not server.handler.received
    [line] = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert period[DISSOLUTION] in line and period[POLLING_DAY] in line and "election period" in line, line
    assert "House resources" in line
    assert not (project / ".newsletter").exists(), "refused before the database was opened"


@pytest.mark.usefixtures("on_each_backend")
def test_an_override_sends_and_is_recorded_with_its_reason(
    project: Path, on_each_backend: Location, run_cli: Run
) -> None:
    subscriber_csv(project / "list.csv", addresses(3, "example.org"))
    reason = "The Clerk advised this notice of surgery closures may go out"
    with Server() as server:
        empty = send_list(run_cli, relay(server, **in_period()), "--override-rule", "  ")
        assert empty[0] == 2 and "--override-rule needs a reason" in empty[1]
        env = relay(server, **in_period(), NEWSLETTER_STAFF="Jo")
        code, stderr = send_list(run_cli, env, "--override-rule", reason)
        assert code == 0, stderr
        assert len(server.handler.received) == 3
    with connect(on_each_backend) as db:
        [entry] = audit.entries(db, action="send.override")
    assert entry.issue == "spring-2018" and entry.staff == "Jo"
    assert entry.details["reason"] == reason and entry.details["rule"] == "election period"


def test_a_test_copy_and_a_rehearsal_go_in_the_period_with_a_note(project: Path, run_cli: Run) -> None:
    subscriber_csv(project / "list.csv", addresses(2, "example.org"))
    with Server() as server:
        test_copy = run_cli("send", "spring-2018", "--to", "me@example.com", env=relay(server, **in_period()))
        assert test_copy.returncode == 0, test_copy.stderr
        assert len(server.handler.received) == 1
    rehearsal = run_cli("send", "spring-2018", "--subscribers", "list.csv", "--yes", env=in_period())
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert "a send to the list through the relay would be refused" in rehearsal.stderr


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({POLLING_DAY: "2029-05-03"}, POLLING_DAY),
        ({DISSOLUTION: "2029-04-01"}, DISSOLUTION),
        ({DISSOLUTION: "2029-05-03", POLLING_DAY: "2029-04-01"}, POLLING_DAY),
        ({DISSOLUTION: "03/04/2029", POLLING_DAY: "2029-05-03"}, DISSOLUTION),
        ({DISSOLUTION: "2029-04-01", POLLING_DAY: "2029-02-30"}, POLLING_DAY),
    ],
)
def test_a_wrong_election_setting_is_refused_naming_it(
    project: Path, run_cli: Run, settings: dict[str, str], named: str
) -> None:
    result = run_cli("send", "spring-2018", "--dry-run", env=settings)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {named}") or f"error: {named}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (project / ".newsletter").exists()


# What a person might type: anything, real dates, and things shaped like dates that are not.
SETTING_TEXT = st.one_of(
    st.text(max_size=14),
    st.dates().map(dt.date.isoformat),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.dates().map(lambda d: f" {d.day:02d}/{d.month:02d}/{d.year} "),
)


@given(dissolution=SETTING_TEXT, polling=SETTING_TEXT)
def test_the_date_settings_are_read_or_refused_naming_a_setting(dissolution: str, polling: str) -> None:
    env = {DISSOLUTION: dissolution, POLLING_DAY: polling}
    try:
        period = election_period(env)
    except ConfigError as exc:
        assert str(exc).startswith((DISSOLUTION, POLLING_DAY)), str(exc)
        return
    if period is None:
        assert not dissolution.strip() and not polling.strip()
    else:
        assert period.dissolution.isoformat() == dissolution.strip() and period.polling_day >= period.dissolution


@given(start=st.dates(), length=st.integers(min_value=0, max_value=60), day=st.dates())
def test_the_period_holds_both_of_its_days(start: dt.date, length: int, day: dt.date) -> None:
    end = start + dt.timedelta(days=length) if start <= dt.date.max - dt.timedelta(days=length) else start
    period = election_period({DISSOLUTION: start.isoformat(), POLLING_DAY: end.isoformat()})
    assert period is not None and period.covers(start) and period.covers(end)
    assert period.covers(day) == (start <= day <= end)


def parts_of(data: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(data, policy=email.policy.default)
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return str(html.get_content()), str(text.get_content())


def test_the_imprint_is_in_both_parts_of_a_real_message_and_on_the_archive(project: Path, run_cli: Run) -> None:
    subscriber_csv(project / "list.csv", addresses(1, "example.org"))
    with Server() as server:
        code, stderr = send_list(run_cli, relay(server, NEWSLETTER_IMPRINT=IMPRINT))
        assert code == 0, stderr
        [received] = server.handler.received
    html, text = parts_of(received.data)
    assert IMPRINT in html.replace("&#39;", "'")
    assert IMPRINT in " ".join(text.split())
    built = run_cli("archive", "--out", "site", env={**REAL_SETTINGS, "NEWSLETTER_IMPRINT": IMPRINT})
    assert built.returncode == 0, built.stderr
    for page in ("index.html", "spring-2018.html"):
        assert IMPRINT in (project / "site" / page).read_text(encoding="utf-8"), page


def test_templates_that_do_not_print_the_imprint_are_refused(project: Path, run_cli: Run) -> None:
    footer = project / "templates" / "partials" / "footer.mjml.j2"
    footer.write_text(footer.read_text(encoding="utf-8").replace("{{ site.imprint }}", ""), encoding="utf-8")
    result = run_cli("send", "spring-2018", "--to", "me@example.com", env={"NEWSLETTER_IMPRINT": IMPRINT})
    assert result.returncode == 2
    assert "newsletter.mjml.j2: NEWSLETTER_IMPRINT is set but the HTML part does not show it" in result.stderr
    assert not list((project / "outbox").glob("**/*.eml")) if (project / "outbox").exists() else True


CASEWORK_LIST = """email,first_name,ward,consented_at,source
reader1@example.org,Ann,Heatons North,2018-01-01,signup form
reader2@example.org,Bob,Heatons North,,casework
reader3@example.org,Cy,Heatons North,2019-02-03,Casework: housing
reader4@example.org,Di,Heatons North,,CASEWORK
"""


def test_casework_rows_without_their_own_consent_stop_the_import(project: Path, run_cli: Run) -> None:
    (project / "people.csv").write_text(CASEWORK_LIST, encoding="utf-8")
    result = run_cli("subscribers", "import", "people.csv")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert [line.split(": email:")[0] for line in lines] == ["error: people.csv:3", "error: people.csv:5"]
    assert all("source is casework" in line for line in lines)
    assert "nothing was imported" in result.stderr
    assert not (project / ".newsletter").exists(), "nothing written"


@pytest.mark.usefixtures("on_each_backend")
def test_a_casework_row_with_newsletter_consent_is_imported(project: Path, run_cli: Run) -> None:
    (project / "people.csv").write_text(CASEWORK_LIST, encoding="utf-8")
    result = run_cli("subscribers", "import", "people.csv", "--skip-invalid")
    assert result.returncode == 1, result.stderr  # the two casework rows were left out, and counted
    assert "2 added" in result.stdout and "2 casework without newsletter consent" in result.stdout, result.stdout
    listed = run_cli("subscribers", "list")
    assert "reader3@example.org" in listed.stdout and "reader2@example.org" not in listed.stdout


@given(source=st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s and '"' not in s))
def test_any_source_cell_is_read_and_only_casework_is_held_back(
    tmp_path_factory: pytest.TempPathFactory, source: str
) -> None:
    path = tmp_path_factory.mktemp("casework") / "people.csv"
    path.write_text(f'email,consented_at,source\nreader1@example.org,,"{source}"\n', encoding="utf-8")
    [row] = list(read_rows(path))
    assert isinstance(row, Skipped) and row.line == 2
    cell = source.strip().lower()
    casework = cell.startswith("casework") and not (cell[8:9].isalnum() or cell[8:9] == "_")
    assert (row.reason == CASEWORK) == casework, (source, row)
