"""A real send that cannot go out half-configured, or late; `status` of an issue never sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsletter.settings import DEFAULTS, load_settings
from tests.conftest import REAL_SETTINGS, Run
from tests.support.sending import addresses, subscriber_csv
from tests.support.smtpd import Server

OUTWARD = [
    "NEWSLETTER_FROM",
    "NEWSLETTER_REPLY_TO",
    "NEWSLETTER_LIST_ID",
    "UNSUBSCRIBE_URL",
    "UNSUBSCRIBE_MAILTO",
    "NEWSLETTER_WEBSITE",
    "NEWSLETTER_ARCHIVE_URL",
    "NEWSLETTER_POSTAL_ADDRESS",
    "UNSUBSCRIBE_SECRET",
]


def relay_env(server: Server) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none"}


def test_a_real_send_names_every_example_value_and_sends_nothing(run_cli: Run) -> None:
    env = {"NEWSLETTER_FROM": REAL_SETTINGS["NEWSLETTER_FROM"], "UNSUBSCRIBE_SECRET": "x" * 40}
    with Server() as server:
        result = run_cli("send", "spring-2018", "--yes", env={**env, **relay_env(server)})
    assert result.returncode == 2 and not server.handler.received
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    for name in OUTWARD[1:-1]:
        assert name in errors[0], f"{name} is not named"
    assert "NEWSLETTER_FROM" not in errors[0] and "UNSUBSCRIBE_SECRET" not in errors[0]


@pytest.mark.parametrize("name", OUTWARD)
def test_each_outward_value_left_at_its_example_is_refused(name: str) -> None:
    env = {**REAL_SETTINGS, name: DEFAULTS[name]}
    found = load_settings(env).example_values_in_use()
    assert len(found) == 1 and found[0].startswith(name)


def test_a_short_secret_is_refused_as_too_short_not_as_an_example() -> None:
    found = load_settings({**REAL_SETTINGS, "UNSUBSCRIBE_SECRET": "short-secret"}).example_values_in_use()
    assert found == ["UNSUBSCRIBE_SECRET is too short (12 characters; at least 16)"]


def test_a_dry_run_works_with_the_example_values(run_cli: Run) -> None:
    with Server() as server:
        result = run_cli("send", "spring-2018", "--dry-run", env=relay_env(server))
    assert result.returncode == 0, result.stderr


def test_not_after_in_the_past_refuses_to_start(run_cli: Run, project: Path) -> None:
    subscriber_csv(project / "list.csv", addresses(5, "example.org"))
    past = (dt.datetime.now() - dt.timedelta(minutes=5)).isoformat(timespec="minutes")
    with Server() as server:
        result = run_cli(
            "send",
            "spring-2018",
            "--yes",
            "--subscribers",
            "list.csv",
            "--not-after",
            past,
            env={**REAL_SETTINGS, **relay_env(server)},
        )
    assert result.returncode == 1 and "past --not-after" in result.stderr and not server.handler.received
    # Refused before the project database is opened: no journal, no plan, no run recorded.
    assert not (project / ".newsletter").exists(), "a send refused by --not-after wrote the project database"


def test_not_after_stops_taking_recipients_and_says_how_to_continue(run_cli: Run, project: Path) -> None:
    emails = addresses(400, "example.org")
    subscriber_csv(project / "list.csv", emails)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=6)).isoformat(timespec="seconds")
    with Server(delay=0.03) as server:  # 400 at 30 ms a command on 2 connections: far longer than 6 s
        env = {**REAL_SETTINGS, **relay_env(server), "SMTP_CONNECTIONS": "2"}
        result = run_cli(
            "send",
            "spring-2018",
            "--allow-missing-images",
            "--yes",
            "--subscribers",
            "list.csv",
            "--not-after",
            soon,
            env=env,
        )
        sent = len(server.handler.received)
    assert result.returncode == 0, result.stderr
    assert sent < len(emails) and "stopped at --not-after" in result.stdout
    assert f"{len(emails) - sent:,} still to send" in result.stdout


def test_not_after_must_be_a_time(run_cli: Run) -> None:
    result = run_cli("send", "spring-2018", "--dry-run", "--not-after", "tomorrow-ish")
    assert result.returncode == 2 and "--not-after" in result.stderr and "Traceback" not in result.stderr


def test_status_of_an_issue_never_sent_says_so(run_cli: Run, project: Path) -> None:
    missing = run_cli("status", "no-such-issue")
    assert missing.returncode == 2 and "no send of this issue is recorded" in missing.stderr
    run_cli("send", "spring-2018", "--yes")  # the outbox: creates the database
    sent = run_cli("status", "spring-2018")
    other = run_cli("status", "autumn-2031")
    assert sent.returncode == 0
    assert other.returncode == 2 and "autumn-2031" in other.stderr
