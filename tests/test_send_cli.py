"""`newsletter send` and `newsletter status` through the real CLI, against a real server:
STARTTLS with a throw-away certificate, login, the confirmation rules, test sends.

What a send leaves in the database (sent, a rerun, nothing for a test send, no password) is
checked on SQLite and PostgreSQL (`on_each_backend`); TLS, the terminal and the settings are
refused before the database is opened, and `--journal` names a file: those keep SQLite."""

from __future__ import annotations

import csv
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
import trustme

from newsletter.store import Location, exists
from tests.conftest import REAL_SETTINGS, Run
from tests.support.db import query
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(60)
PASSWORD = "correct-horse-battery-staple-7"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with Server(tls=context, users={"office": PASSWORD}) as server:
        yield server


def relay_env(server: Server, project: Path, ca: trustme.CA, **extra: str) -> dict[str, str]:
    ca_file = project / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    env = {
        **REAL_SETTINGS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(server.port),
        "SMTP_USERNAME": "office",
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_CA_FILE": str(ca_file),
        "SMTP_RETRY_DELAY": "0.05",
    }
    env.update(extra)
    return env


def states(location: Location) -> dict[str, str]:
    if not exists(location):
        return {}
    return dict(query(location, "SELECT email, state FROM deliveries"))


def everything(location: Location) -> str:
    """All the database holds about sends, as text (the file's bytes on SQLite)."""
    if isinstance(location, Path):
        return location.read_bytes().decode("utf-8", "replace")
    return repr(query(location, "SELECT * FROM sends") + query(location, "SELECT * FROM deliveries"))


def test_starttls_and_login_deliver_everyone_then_a_rerun_sends_nothing(
    project: Path, run_cli: Run, tls_server: Server, ca: trustme.CA, on_each_backend: Location
) -> None:
    env = relay_env(tls_server, project, ca)
    result = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert len(tls_server.handler.received) == 18
    assert tls_server.logins == [("office", True)] * 4
    assert "18 sent" in result.stdout and f"127.0.0.1:{tls_server.port}" in result.stdout
    # The first send filled the empty list from the example CSV: rows without consent never entered it.
    assert "imported" in result.stderr and "18 added, 2 skipped" in result.stderr
    assert set(states(on_each_backend).values()) == {"sent"}
    again = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
    assert again.returncode == 0 and "18 skipped (already sent)" in again.stdout
    assert "imported" not in again.stderr
    assert len(tls_server.handler.received) == 18
    status = run_cli("status", "spring-2018", env=env)
    assert status.returncode == 0 and "18  sent" in status.stdout


def test_a_wrong_password_is_one_line_exit_1_and_nothing_sent(
    project: Path, run_cli: Run, tls_server: Server, ca: trustme.CA, on_each_backend: Location
) -> None:
    wrong = "not-the-password-42"
    result = run_cli(
        "send",
        "spring-2018",
        "--allow-missing-images",
        "--yes",
        env=relay_env(tls_server, project, ca, SMTP_PASSWORD=wrong),
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"127.0.0.1:{tls_server.port}: 535" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert tls_server.handler.received == []
    assert "sent" not in states(on_each_backend).values()
    journal = everything(on_each_backend)
    for text in (result.stdout, result.stderr):
        assert wrong not in text and PASSWORD not in text
    assert wrong not in journal and PASSWORD not in journal


def test_an_untrusted_certificate_stops_the_send(
    project: Path, run_cli: Run, tls_server: Server, ca: trustme.CA
) -> None:
    env = relay_env(tls_server, project, ca)
    del env["SMTP_CA_FILE"]
    result = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
    assert result.returncode == 1 and "TLS failed" in result.stderr and "certificate" in result.stderr
    assert tls_server.handler.received == []


def test_a_test_send_goes_only_to_the_given_addresses_and_is_not_the_send(
    project: Path, run_cli: Run, tls_server: Server, ca: trustme.CA, on_each_backend: Location
) -> None:
    env = relay_env(tls_server, project, ca)
    result = run_cli("send", "spring-2018", "--to", "press@office.example", "--to", "me@office.example", env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(tls_server.handler.recipients()) == ["me@office.example", "press@office.example"]
    subject = message_from_bytes(tls_server.handler.received[0].data)["Subject"]
    assert subject == "Stockport update: inquiry into 'sent away' children"
    assert states(on_each_backend) == {}


def test_a_test_send_works_with_the_outbox(project: Path, run_cli: Run, on_each_backend: Location) -> None:
    result = run_cli("send", "spring-2018", "--to", "me@office.example")
    assert result.returncode == 0, result.stderr
    # A test copy has its own folder: the real issue's outbox holds only the real send.
    assert [p.name for p in (project / "outbox" / "spring-2018-test").iterdir()] == ["me@office.example.eml"]
    assert not (project / "outbox" / "spring-2018").exists()
    assert states(on_each_backend) == {}


def test_a_real_send_asks_and_refuses_without_a_terminal(
    project: Path, run_cli: Run, tls_server: Server, ca: trustme.CA
) -> None:
    result = run_cli(
        "send", "spring-2018", "--allow-missing-images", env=relay_env(tls_server, project, ca), input="y\n"
    )
    assert result.returncode == 2
    assert "stdin is not a terminal" in result.stderr and "--yes" in result.stderr
    assert tls_server.handler.received == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"NEWSLETTER_FROM": "Ann Coffey MP <news@example.org>"}, "NEWSLETTER_FROM"),
        ({"UNSUBSCRIBE_SECRET": "example-secret-change-me"}, "UNSUBSCRIBE_SECRET"),
        ({"SMTP_HOST": "mail.office.test", "SMTP_SECURITY": "none"}, "only allowed for a relay on this machine"),
        ({"SMTP_URLS": "ftp://mail.office.test"}, "scheme 'ftp'"),
        ({"SMTP_CONNECTIONS": "many"}, "SMTP_CONNECTIONS"),
    ],
)
def test_bad_sending_settings_exit_2(project: Path, run_cli: Run, settings: dict[str, str], expected: str) -> None:
    env = {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PASSWORD": "s3cret-pw", "SMTP_USERNAME": "u", **settings}
    result = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", env=env)
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert "s3cret-pw" not in result.stderr


def test_status_exports_the_failures(project: Path, run_cli: Run, tls_server: Server, ca: trustme.CA) -> None:
    tls_server.handler.refuse["amina.hussain@example.com"] = "550 5.1.1 mailbox unavailable"
    journal = project / "elsewhere.sqlite3"
    env = relay_env(tls_server, project, ca)
    result = run_cli("send", "spring-2018", "--allow-missing-images", "--yes", "--journal", str(journal), env=env)
    assert result.returncode == 0 and "1 failed" in result.stdout
    status = run_cli("status", "spring-2018", "--journal", str(journal), "--export", "failures.csv", env=env)
    assert status.returncode == 0, status.stderr
    assert "550 5.1.1 mailbox unavailable" in status.stdout
    with (project / "failures.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["email"] for r in rows] == ["amina.hussain@example.com"]
    assert rows[0]["last_reply"] == f"127.0.0.1:{tls_server.port}: 550 5.1.1 mailbox unavailable"
    retry = run_cli(
        "send", "spring-2018", "--allow-missing-images", "--yes", "--journal", str(journal), "--retry-failed", env=env
    )
    assert retry.returncode == 0 and "1 failed" in retry.stdout
    assert "17 skipped (already sent)" in retry.stdout
