"""`newsletter serve` as an operator runs it: a log line per request (never a token, query string
or email address), /healthz and /readyz, SIGTERM finishing the request in flight, and a refusal
to start on an old schema that says to run `newsletter db upgrade`."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest

from newsletter.audience.tokens import make_token
from tests.conftest import REAL_SETTINGS, Run
from tests.support.consent_server import request, serving
from tests.support.db import query, write
from tests.support.postgres import Cluster
from tests.support.web import call, web_app

ADDRESS = "margaret.hughes@example.org"
TOKEN = make_token(ADDRESS, REAL_SETTINGS["NEWSLETTER_LIST_ID"], REAL_SETTINGS["UNSUBSCRIBE_SECRET"])
ENV = {**REAL_SETTINGS, "NEWSLETTER_SERVE_TRUSTED_PROXY": "127.0.0.1"}


def test_one_log_line_per_request_without_tokens_queries_or_addresses(project: Path) -> None:
    with serving(project, ENV) as server:
        assert request(f"{server.base}/unsubscribe?token={TOKEN}", b"List-Unsubscribe=One-Click")[0] == 200
        form = urlencode({"email": "sam@example.org", "first_name": "Sam", "consent": "yes"}).encode()
        assert request(f"{server.base}/subscribe?email=sam@example.org", form)[0] == 200
        assert request(f"{server.base}/{ADDRESS}")[0] == 404
        assert request(f"{server.base}/healthz")[0] == 200
        lines = [
            server.wait_for_log(f" {path} ") for path in ("/unsubscribe", "/subscribe", "(not a page)", "/healthz")
        ]
    assert lines[0].startswith("INFO 127.0.0.1 POST /unsubscribe 200 ") and lines[0].endswith(" ms")
    assert " GET /healthz 200 3 B " in lines[3]
    logged = "\n".join(server.log)
    for secret in (TOKEN, ADDRESS, "sam@example.org", "token=", "?"):
        assert secret not in logged


def test_the_request_log_can_be_turned_off(project: Path) -> None:
    with serving(project, {**ENV, "NEWSLETTER_SERVE_REQUEST_LOG": "no"}) as server:
        assert request(f"{server.base}/healthz")[0] == 200
        server.process.send_signal(signal.SIGTERM)
        server.wait_for_log("stopping (SIGTERM)")
        server.process.wait(timeout=30)
    assert not [line for line in server.log if "/healthz" in line]


def test_readyz_says_whether_the_database_answers_with_this_releases_schema(
    tmp_path: Path, database: Path | str
) -> None:
    app = web_app(tmp_path, NEWSLETTER_JOURNAL=str(database))
    assert (call(app, "GET", "/healthz").code, call(app, "GET", "/readyz").body) == (200, "ready\n")
    write(database, "DROP TABLE alembic_version")  # as a database from before this release looks
    answer = call(app, "GET", "/readyz")
    assert (answer.code, answer.headers["Cache-Control"]) == (503, "no-store")
    assert "newsletter db upgrade" in answer.body
    assert call(app, "GET", "/healthz").code == 200, "the process itself still answers"


def test_readyz_is_503_while_the_database_server_is_gone(tmp_path: Path, pg_cluster: Cluster) -> None:
    """PostgreSQL only: a database server that goes away is what readiness is for."""
    location = pg_cluster.new_database()
    app = web_app(tmp_path, NEWSLETTER_JOURNAL=location)
    assert call(app, "GET", "/readyz").code == 200
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{location.rsplit("/", 1)[1]}" WITH (FORCE)')
    for _ in range(2):  # the dead pooled connection, then a new one to a database that is not there
        answer = call(app, "GET", "/readyz")
        assert (answer.code, answer.body) == (503, "not ready: the database does not answer\n")
    assert call(app, "GET", "/healthz").code == 200


def test_sigterm_finishes_the_request_in_flight_then_refuses_new_ones(project: Path) -> None:
    body = b"List-Unsubscribe=One-Click"
    with serving(project, ENV) as server:
        host, port = urlsplit(server.base).hostname or "", urlsplit(server.base).port or 0
        with socket.create_connection((host, port), timeout=10) as in_flight:
            head = (
                f"POST /unsubscribe?token={TOKEN} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            in_flight.sendall(head.encode() + body[:10])
            # Answered after the server's loop has read what the first connection sent.
            assert request(f"{server.base}/healthz")[0] == 200
            server.process.send_signal(signal.SIGTERM)
            server.wait_for_log("stopping (SIGTERM)")
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((host, port), timeout=10).close()
            in_flight.sendall(body[10:])
            answer = in_flight.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert server.process.wait(timeout=30) == 0
    rows = query(project / ".newsletter" / "newsletter.sqlite3", "SELECT email, source FROM suppressions")
    assert rows == [(ADDRESS, "one-click (RFC 8058)")]


def test_serve_refuses_an_old_schema_and_says_to_upgrade(
    project: Path, run_cli: Run, on_each_backend: Path | str
) -> None:
    assert run_cli("db", "status", env=REAL_SETTINGS).returncode == 0  # creates the database at the newest schema
    write(on_each_backend, "DROP TABLE alembic_version")
    result = run_cli("serve", "--port", "0", env=REAL_SETTINGS, timeout=30)
    assert result.returncode == 2, result.stdout
    assert "newsletter db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the refusal and its hint
    assert result.stdout == "", "nothing served"
