"""`newsletter serve` as a subprocess: what it refuses (the example settings, as `send` does; a
busy port; an address this machine does not have; `--dev` off loopback), each in one line with
exit 2 and nothing written, and what `--dev` serves (every page says it is a development server)."""

from __future__ import annotations

import re
import socket
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from newsletter.settings import EXAMPLE_SECRET
from tests.conftest import REAL_SETTINGS, Run
from tests.support.consent_server import request, serving
from tests.support.smtpd import Server as SmtpServer

BANNER = "Development server with example settings"


def refused(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """The error line of a refused start, checked for what every refusal must be."""
    stderr = result.stderr
    assert result.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and len(lines) <= 2 and lines[0].startswith("error: "), stderr
    assert len(lines) == 1 or lines[1].startswith("hint: "), stderr
    for name in names:
        assert name in lines[0], stderr
    return lines[0]


def nothing_written(project: Path) -> None:
    for name in (".newsletter", "outbox"):
        assert not (project / name).exists(), f"a refused serve wrote {name}/"


def real_but(**changed: str | None) -> dict[str, str]:
    """The real settings with some changed (None: left out, so its example default applies)."""
    env = {**REAL_SETTINGS, **changed}
    return {name: value for name, value in env.items() if value is not None}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, ["UNSUBSCRIBE_SECRET is the example value", "NEWSLETTER_FROM", "UNSUBSCRIBE_URL"]),
        (real_but(UNSUBSCRIBE_SECRET=EXAMPLE_SECRET), ["UNSUBSCRIBE_SECRET is the example value"]),
        (real_but(UNSUBSCRIBE_SECRET="short-secret"), ["UNSUBSCRIBE_SECRET is too short (12 characters"]),
        (
            real_but(UNSUBSCRIBE_URL="https://www.example.org/unsubscribe"),
            ["UNSUBSCRIBE_URL points at the example domain"],
        ),
        (real_but(NEWSLETTER_POSTAL_ADDRESS=None), ["NEWSLETTER_POSTAL_ADDRESS is the example address"]),
    ],
)
def test_serve_refuses_what_send_refuses(project: Path, run_cli: Run, env: dict[str, str], named: list[str]) -> None:
    """The same reasons, from the same function, as a real send with the same settings."""
    line = refused(
        run_cli("serve", "--port", "0", env=env, timeout=30), "refusing to serve with example settings", *named
    )
    nothing_written(project)
    send = run_cli(
        "send",
        "spring-2018",
        "--allow-missing-images",
        "--yes",
        env={**env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9"},
    )
    assert send.returncode == 2, send.stderr
    for reason in line.split(": ", 2)[2].split("; "):
        assert reason in send.stderr, f"send does not refuse {reason!r}: {send.stderr}"


def test_dev_serves_the_example_settings_on_loopback_with_a_banner_on_every_page(project: Path) -> None:
    with serving(project, {}, "--dev") as server:
        pages = {
            path: request(server.base + path)
            for path in ("/subscribe", "/subscribe/confirm", "/preferences", "/unsubscribe", "/nowhere")
        }
        assert request(server.base + "/healthz")[0] == 200
    assert {path: answer[0] for path, answer in pages.items()} == {
        "/subscribe": 200,
        "/subscribe/confirm": 400,
        "/preferences": 200,
        "/unsubscribe": 400,
        "/nowhere": 404,
    }
    for path, (_, _, page) in pages.items():
        assert re.search(rf'<p class="dev" role="note">{BANNER}[^<]*</p>\s*<header>', page), path
    assert server.banner.startswith("Serving http://127.0.0.1:")
    assert "development server" in "\n".join(server.log)


def sign_up(base: str, address: str) -> int:
    form = urlencode({"email": address, "first_name": "Sam", "consent": "yes"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/subscribe", data=form), timeout=10) as response:
        return int(response.status)


@pytest.mark.parametrize("dev", [True, False])
def test_dev_mails_the_outbox_never_the_relay_and_says_so(project: Path, dev: bool) -> None:
    """`--dev` with SMTP_HOST set (a real office trying its pages): the confirmation is a file in
    the outbox and the relay gets nothing, and the start-up lines say where emails go and which
    setting is left aside. Without --dev the same settings mail the relay (so this can fail)."""
    with SmtpServer() as relay:
        env = {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(relay.port), "SMTP_SECURITY": "none"}
        with serving(project, env, *(["--dev"] if dev else [])) as server:
            assert sign_up(server.base, "sam@example.org") == 200
            log = "\n".join(server.log)
        eml = project / "outbox" / "confirmations" / "sam@example.org.eml"
        if not dev:
            assert [r.recipients for r in relay.handler.received] == [("sam@example.org",)] and not eml.exists()
            assert "127.0.0.1" in server.banner and "not to SMTP_HOST" not in log
            return
        assert not relay.handler.received, "--dev mailed the relay"
        assert eml.exists() and "confirmation emails to the outbox" in server.banner, server.banner
        assert "Emails go to the outbox" in log and "not to SMTP_HOST." in log, log


def test_without_dev_real_settings_serve_with_no_banner(project: Path) -> None:
    with serving(project, dict(REAL_SETTINGS)) as server:
        status, _, page = request(server.base + "/subscribe")
    assert status == 200 and "Development server" not in page and 'class="dev"' not in page


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--host", "0.0.0.0"], {}, "--host 0.0.0.0: --dev listens only on loopback"),
        (["--host", "::"], {}, "--host ::: --dev listens only on loopback"),
        ([], {"NEWSLETTER_SERVE_HOST": "192.0.2.1"}, "NEWSLETTER_SERVE_HOST: --dev listens only on loopback"),
    ],
)
def test_dev_refuses_any_address_but_loopback(
    project: Path, run_cli: Run, args: list[str], env: dict[str, str], named: str
) -> None:
    refused(run_cli("serve", "--dev", "--port", "0", *args, env=env, timeout=30), named)
    nothing_written(project)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("localhost.example.org", False),
        ("", False),
    ],
)
def test_loopback_means_this_machine_only(host: str, loopback: bool) -> None:
    from newsletter.cli.serve import is_loopback

    assert is_loopback(host) is loopback


def test_a_busy_port_is_one_line_naming_it(project: Path, run_cli: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), env=dict(REAL_SETTINGS), timeout=30)
    line = refused(result, f"127.0.0.1:{port}: cannot listen: Address already in use")
    assert "--port 0" in result.stderr, line
    nothing_written(project)


def test_an_address_this_machine_does_not_have_is_one_line_naming_it(project: Path, run_cli: Run) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails at once, with no DNS lookup.
    result = run_cli("serve", "--host", "192.0.2.1", "--port", "0", env=dict(REAL_SETTINGS), timeout=30)
    refused(result, "192.0.2.1:0: cannot listen: Cannot assign requested address")
    nothing_written(project)
    ipv6 = run_cli("serve", "--port", "0", env={**REAL_SETTINGS, "NEWSLETTER_SERVE_HOST": "2001:db8::1"}, timeout=30)
    refused(ipv6, "[2001:db8::1]:0: cannot listen")
