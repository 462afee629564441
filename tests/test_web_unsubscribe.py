"""One-click unsubscribe in the web application called directly (the served, end-to-end path is in
test_unsubscribe_e2e.py): RFC 8058 one-click, the page and its form, bad tokens, headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.audience.tokens import make_token
from newsletter.web.app import WebApp
from newsletter.web.pages import mask
from tests.conftest import own_server
from tests.support.db import query, write
from tests.support.postgres import Cluster
from tests.support.web import Answer, web_app
from tests.support.web import call as web_call

SECRET = "a-test-secret-that-is-long-enough"
ADDRESS = "anne.example@example.org"


@pytest.fixture
def app(tmp_path: Path, database: Path | str) -> WebApp:
    """On each backend: an unsubscribe is a suppression written to the list of record."""
    return web_app(tmp_path, database)


def token(address: str = ADDRESS, secret: str = SECRET) -> str:
    return make_token(address, "Ann Coffey MP's newsletter <newsletter.stockport.example.org>", secret)


def call(
    app: WebApp,
    method: str,
    query: str = "",
    body: bytes = b"",
    content_type: str = "application/x-www-form-urlencoded",
    path: str = "/newsletter/unsubscribe",
) -> tuple[str, dict[str, str], str]:
    answer = web_call(app, method, path, query, body, content_type=content_type)
    return answer.status, answer.headers, answer.body


def suppressed(app: WebApp) -> list[tuple[Any, ...]]:
    return query(app.settings.journal_path, "SELECT email, reason, source FROM suppressions")


def test_one_click_post_unsubscribes_and_answers_200(app: WebApp) -> None:
    status, headers, _ = call(app, "POST", f"token={token()}", b"List-Unsubscribe=One-Click")
    assert status == "200 OK"
    assert suppressed(app) == [(ADDRESS, "unsubscribed", "one-click (RFC 8058)")]
    assert headers["Cache-Control"] == "no-store"


def test_one_click_as_multipart_form_data_like_rfc_8058_section_8(app: WebApp) -> None:
    body = (
        b'---FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n---FormBoundaryjWmhtjORrn--\r\n"
    )
    status, _, _ = call(
        app, "POST", f"token={token()}", body, content_type="multipart/form-data; boundary=-FormBoundaryjWmhtjORrn"
    )
    assert status == "200 OK"
    assert suppressed(app) == [(ADDRESS, "unsubscribed", "one-click (RFC 8058)")]


def test_get_shows_a_masked_address_and_a_form_but_changes_nothing(app: WebApp) -> None:
    status, headers, page = call(app, "GET", f"token={token()}")
    assert status == "200 OK"
    assert "an***@example.org" in page and ADDRESS not in page
    assert '<form method="post"' in page and "<script" not in page
    assert suppressed(app) == []
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert "no-store" in headers["Cache-Control"]


def test_the_page_form_posts_and_confirms(app: WebApp) -> None:
    status, _, page = call(app, "POST", "", f"token={token()}&confirm=yes".encode())
    assert status == "200 OK" and "You are unsubscribed" in page
    assert suppressed(app) == [(ADDRESS, "unsubscribed", "unsubscribe page")]


def test_repeating_is_harmless(app: WebApp) -> None:
    for _ in range(3):
        assert call(app, "POST", f"token={token()}", b"List-Unsubscribe=One-Click")[0] == "200 OK"
    assert len(suppressed(app)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "YW5uZUBleGFtcGxlLm9yZw.AAAAAAAAAAAAAAAAAAAAAA",
        token("someone.else@example.org", "a-guessed-secret-of-some-length"),
    ],
)
def test_a_forged_or_malformed_token_gets_400_and_changes_nothing(app: WebApp, bad: str) -> None:
    for method in ("GET", "POST"):
        status, _, page = call(app, method, f"token={bad}", b"List-Unsubscribe=One-Click")
        assert status == "400 Bad Request" and "not valid" in page
    assert suppressed(app) == []


def test_a_token_moved_to_another_address_fails(app: WebApp) -> None:
    _, signature = token().split(".")
    moved = token("other@example.org").split(".")[0] + "." + signature
    assert call(app, "POST", f"token={moved}", b"List-Unsubscribe=One-Click")[0] == "400 Bad Request"


def test_tokens_signed_with_a_previous_secret_still_work(app: WebApp) -> None:
    old = token(secret="an-old-secret-from-last-year")
    assert call(app, "POST", f"token={old}", b"List-Unsubscribe=One-Click")[0] == "200 OK"


def test_oversized_body_is_refused(app: WebApp) -> None:
    status, _, _ = call(app, "POST", f"token={token()}", b"x=" + b"a" * 20_000)
    assert status.startswith("413")
    assert suppressed(app) == []


def test_other_paths_methods_and_health(app: WebApp) -> None:
    assert call(app, "GET", path="/healthz")[0] == "200 OK"
    assert call(app, "GET", path="/admin")[0] == "404 Not Found"
    status, headers, _ = call(app, "DELETE", f"token={token()}")
    assert status == "405 Method Not Allowed" and headers["Allow"] == "GET, HEAD, POST"


def test_output_is_escaped(app: WebApp) -> None:
    page = app.pages.render(
        "unsubscribe.html", "Unsubscribe", list_name="<List>", masked='x"<b>@example.org', token='tok"en'
    ).decode()
    assert "<b>" not in page and "&lt;List&gt;" in page and 'value="tok&#34;en"' in page


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("anne@example.org", "an***@example.org"),
        ("bob@example.org", "b***@example.org"),
        ("a@example.org", "a***@example.org"),
    ],
)
def test_mask(address: str, masked: str) -> None:
    assert mask(address) == masked


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own: it is stopped and restarted."""
    yield from own_server()


def one_click(app: WebApp, address: str) -> Answer:
    return web_call(app, "POST", "/newsletter/unsubscribe", f"token={token(address)}", b"List-Unsubscribe=One-Click")


def test_a_postgresql_restart_between_two_unsubscribes_is_a_503_then_recorded(
    tmp_path: Path, own_cluster: Cluster
) -> None:
    """The server goes down and comes back while `serve` runs: the request during the outage
    is told to try again (503, Retry-After) and records nothing; the next one, on a fresh
    connection, is recorded. A restart nobody saw costs at most the one request that meets the
    dead connection."""
    url = own_cluster.new_database()
    # The test servers run with synchronous_commit off, which loses the last commits in a crash;
    # a real server keeps them, and "recorded" here means it survived the restart.
    write(url, f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET synchronous_commit = on')
    app = web_app(tmp_path, url)
    first, second, third = (f"{n}@example.org" for n in ("first", "second", "third"))
    assert one_click(app, first).code == 200  # this thread now holds a connection
    own_cluster.stop("immediate")
    try:
        during = one_click(app, second)
    finally:
        own_cluster.start_again()
    assert during.code == 503 and during.headers["Retry-After"] == "60", during.status
    assert "Please try again" in during.body
    assert one_click(app, second).code == 200, "the connection lost in the outage is not reused"
    own_cluster.restart()  # down and up again between two requests
    assert one_click(app, third).code in (200, 503)
    assert one_click(app, third).code == 200
    rows = query(app.settings.journal_path, "SELECT email, reason FROM suppressions ORDER BY email")
    assert rows == [(first, "unsubscribed"), (second, "unsubscribed"), (third, "unsubscribed")]
