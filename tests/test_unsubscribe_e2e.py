"""End to end with real parts: send to the outbox, take a message's List-Unsubscribe URL,
POST `List-Unsubscribe=One-Click` to a running `newsletter serve`, send the next issue."""

from __future__ import annotations

import email
import email.policy
import re
import signal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import REAL_SETTINGS, Run
from tests.support.consent_server import Server, request, serving

ADDRESS = "margaret.hughes@example.org"


def unsubscribe_url(eml: Path, server: Server) -> str:
    """The http(s) URL of List-Unsubscribe, pointed at the local server."""
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    header = str(message["List-Unsubscribe"])
    [url] = [u for u in re.findall(r"<([^>]+)>", header) if u.startswith(("https://", "http://"))]
    parts = urlsplit(url)
    return str(urlunsplit(parts._replace(scheme="http", netloc=urlsplit(server.base).netloc)))


def altered(url: str, position: int) -> str:
    """The same URL with one character of the token changed."""
    head, token = url.split("token=")
    chars = list(token)
    chars[position] = "B" if chars[position] != "B" else "C"
    return f"{head}token={''.join(chars)}"


def test_one_click_unsubscribe_then_the_next_send_skips_and_reports(
    project: Path, run_cli: Run, on_each_backend: Path | str
) -> None:
    """On each backend: the web half and the office half meet only in the database."""
    env = {**REAL_SETTINGS, "UNSUBSCRIBE_URL": "http://127.0.0.1/unsubscribe"}
    with serving(project, env) as server:
        env["UNSUBSCRIBE_URL"] = f"{server.base}/unsubscribe"
        sent = run_cli(
            "send", "spring-2018", "--subscribers", "subscribers.example.csv", "--outbox", "first", "--yes", env=env
        )
        assert sent.returncode == 0, sent.stderr
        url = unsubscribe_url(project / "first" / f"{ADDRESS}.eml", server)
        other = unsubscribe_url(project / "first" / "d.okafor@example.com.eml", server)

        assert request(f"{server.base}/healthz")[0] == 200
        status, headers, page = request(url)
        assert status == 200 and "ma***@example.org" in page and ADDRESS not in page
        assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"

        for position in (0, 12, -1):  # address part, signature, the last character's spare bits
            status, _, page = request(altered(other, position), b"List-Unsubscribe=One-Click")
            assert status == 400, f"token changed at {position} was accepted"

        status, _, _ = request(url, b"List-Unsubscribe=One-Click")
        assert status == 200
        assert request(url, b"List-Unsubscribe=One-Click")[0] == 200  # again: harmless
        listed = run_cli("suppressions", "list", env=env)
        assert ADDRESS in listed.stdout and "one-click (RFC 8058)" in listed.stdout
        assert "d.okafor@example.com" not in listed.stdout, "an altered token must change nothing"
        process = server.process
    assert process.returncode == 0 and "stopped" in server.log

    second = run_cli(
        "send", "early-2019", "--subscribers", "subscribers.example.csv", "--outbox", "second", "--yes", env=env
    )
    assert second.returncode == 0, second.stderr
    assert not (project / "second" / f"{ADDRESS}.eml").exists()
    assert len(list((project / "second").glob("*.eml"))) == 17
    assert "1 suppressed" in second.stdout

    dry = run_cli("send", "early-2019", "--subscribers", "subscribers.example.csv", "--dry-run", env=env)
    assert re.search(rf"{re.escape(ADDRESS)}\s+suppressed: unsubscribed \(one-click", dry.stdout), dry.stdout
    if isinstance(on_each_backend, str):
        assert not list(project.rglob("*.sqlite3")), "on PostgreSQL, no command fell back to a SQLite file"


def test_serve_refuses_a_bad_port_setting_and_stops_on_sigterm(project: Path, run_cli: Run) -> None:
    """SQLite only: a setting and a signal, not the database."""
    bad = run_cli("serve", env={**REAL_SETTINGS, "NEWSLETTER_SERVE_PORT": "eighty"}, timeout=30)
    assert bad.returncode == 2 and "NEWSLETTER_SERVE_PORT" in bad.stderr
    with serving(project, dict(REAL_SETTINGS)) as server:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
