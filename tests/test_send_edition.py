"""`newsletter send ISSUE --to EMAIL --edition NAME`: a test copy of one ward edition, through the
real CLI to the file outbox and to a real aiosmtpd relay on 127.0.0.1; the edition for everyone
stays the default, and an edition the issue does not have is one line and exit 2. The tests that
record a test copy run on SQLite and PostgreSQL; the rest never open the database."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from newsletter.store import Location
from tests.conftest import REAL_SETTINGS, Run
from tests.support.db import query, scalar
from tests.support.smtpd import Server

pytestmark = pytest.mark.timeout(60)

WARD_ARTICLE = "https://www.example.org/news/dementia-dols-red-tape"  # only in the Heatons edition
EVERYONE_ARTICLE = "https://www.example.org/news/childrens-homes-market"
KEY = "heatons-north+heatons-south"


def html_of(data: bytes) -> str:
    part = email.message_from_bytes(data, policy=email.policy.default).get_body(("html",))
    assert part is not None
    return str(part.get_content())


def copy_in_outbox(project: Path) -> bytes:
    return (project / "outbox" / "spring-2016-test" / "me@office.example.eml").read_bytes()


@pytest.mark.parametrize("name", [KEY, "Heatons South", " heatons  NORTH ", KEY.upper()])
def test_a_ward_edition_to_the_outbox(project: Path, on_each_backend: Location, run_cli: Run, name: str) -> None:
    result = run_cli("send", "spring-2016", "--to", "me@office.example", "--edition", name)
    assert result.returncode == 0, result.stderr
    assert "edition for Heatons North, Heatons South" in result.stdout, result.stdout
    html = html_of(copy_in_outbox(project))
    assert WARD_ARTICLE in html and EVERYONE_ARTICLE in html
    assert f"https://www.example.org/newsletter/spring-2016.{KEY}.html" in html, "its own web copy"
    assert scalar(on_each_backend, "SELECT count(*) FROM deliveries") == 0, "a test copy is not the send"
    [(kind, recipients)] = query(on_each_backend, "SELECT kind, recipients FROM sends")
    assert (kind, recipients) == ("test", f"me@office.example (edition {KEY})")


@pytest.mark.parametrize("extra", [(), ("--edition", "everyone")])
def test_the_default_is_the_edition_for_everyone(project: Path, run_cli: Run, extra: tuple[str, ...]) -> None:
    result = run_cli("send", "spring-2016", "--to", "me@office.example", *extra)
    assert result.returncode == 0, result.stderr
    html = html_of(copy_in_outbox(project))
    assert WARD_ARTICLE not in html and EVERYONE_ARTICLE in html
    assert "edition for" not in result.stdout


@pytest.mark.usefixtures("on_each_backend")
def test_a_ward_edition_through_a_real_relay(project: Path, run_cli: Run) -> None:
    with Server() as server:
        env = {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none"}
        ward = run_cli("send", "spring-2016", "--to", "press@office.example", "--edition", "Heatons North", env=env)
        everyone = run_cli("send", "spring-2016", "--to", "me@office.example", env=env)
        assert ward.returncode == 0 and everyone.returncode == 0, ward.stderr + everyone.stderr
        received = {r.recipients: html_of(r.data) for r in server.handler.received}
    assert set(received) == {("press@office.example",), ("me@office.example",)}
    assert WARD_ARTICLE in received[("press@office.example",)]
    assert WARD_ARTICLE not in received[("me@office.example",)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--to", "me@office.example", "--edition", "heaton-north"),
            f"--edition 'heaton-north': spring-2016 has no such edition (its editions: everyone, {KEY})",
        ),
        (
            ("--to", "me@office.example", "--edition", "Manor"),
            f"--edition 'Manor': spring-2016 has no such edition (its editions: everyone, {KEY})",
        ),
        (("--edition", KEY, "--yes"), "--edition chooses the edition of a test copy: use it with --to EMAIL"),
        (
            ("--to", "me@office.example", "--dry-run"),
            "--dry-run and --to do different things: --dry-run checks the send "
            "to the list, --to sends a test copy now; give one of them",
        ),
    ],
)
def test_an_unknown_edition_is_one_line_and_nothing_is_sent(
    project: Path, run_cli: Run, args: tuple[str, ...], expected: str
) -> None:
    result = run_cli("send", "spring-2016", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == f"error: {expected}\n"
    assert not (project / "outbox").exists()
