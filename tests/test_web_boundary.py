"""The web app's input boundary: whatever a client sends, the answer is a page with the status
worked out from the request, never a 5xx and never a redirect; limits answer 4xx. A 503 only
for a database that is busy or cannot be opened. Hand-written cases, then hypothesis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.store import transaction
from newsletter.web.app import WebApp
from newsletter.web.http import MAX_BODY, MAX_FIELDS
from tests.conftest import BACKENDS, release
from tests.support.db import scalar
from tests.support.postgres import Cluster
from tests.support.web import Answer, call, opened, web_app

PATHS = ["/subscribe", "/subscribe/confirm", "/preferences", "/newsletter/unsubscribe", "/healthz"]
POSTS = PATHS[:4]


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """One app per backend for the module: a valid signup among the generated requests is
    written to the database, so the boundary holds on both."""
    root = tmp_path_factory.mktemp("office")
    if request.param == "sqlite":
        yield web_app(root, NEWSLETTER_SIGNUP_PER_IP="1000000")
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    yield web_app(root, url, NEWSLETTER_SIGNUP_PER_IP="1000000")
    release(url)


def sound(answer: Answer, method: str = "GET") -> None:
    """What every answer must be, whatever was asked: never a 5xx (a 503 here would hide a
    handler that raises, as one did), never a redirect, always the security headers."""
    assert answer.code < 500, answer.status
    assert "Location" not in answer.headers, "no redirects, so no open redirect"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert answer.headers["Cache-Control"] == "no-store"
    if method.upper() != "HEAD":
        assert int(answer.headers["Content-Length"]) == len(answer.body.encode())


@pytest.mark.parametrize("path", POSTS)
def test_an_oversized_body_is_413_on_every_path(app: WebApp, path: str) -> None:
    answer = call(app, "POST", path, body=b"email=" + b"a" * MAX_BODY)
    sound(answer)
    assert answer.code == 413


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        (b"email=x", {"CONTENT_LENGTH": "ten"}),
        (b"\xff\xfe\x00email", {}),
        (b"&".join(b"f%d=1" % n for n in range(200)), {}),
    ],
)
def test_unreadable_forms_are_400(app: WebApp, body: bytes, extra: dict[str, str]) -> None:
    answer = call(app, "POST", "/subscribe", body=body, extra=extra)
    sound(answer)
    assert answer.code == 400


def test_a_header_injection_in_the_address_is_refused(app: WebApp) -> None:
    form = urlencode({"email": "a@example.org\r\nBcc: everyone@example.com", "first_name": "A", "consent": "yes"})
    answer = call(app, "POST", "/subscribe", body=form.encode())
    sound(answer)
    assert answer.code == 400 and "Enter an email address" in answer.body


def test_a_redirect_parameter_is_ignored(app: WebApp) -> None:
    for query in ("next=https://evil.example.com/", "redirect=//evil.example.com", "return_to=javascript:alert(1)"):
        answer = call(app, "GET", "/subscribe", query)
        sound(answer)
        assert answer.code == 200 and "evil" not in answer.body and "javascript:" not in answer.body


SIGNUP = urlencode({"email": "a@example.org", "first_name": "A", "consent": "yes"}).encode()


def test_a_locked_database_is_503_with_retry_after(tmp_path: Path, database: Path | str) -> None:
    """Another writer holds the write lock (SQLite's file lock; PostgreSQL's advisory lock)
    past the time a request waits for it: "try again", not a fault."""
    app = web_app(tmp_path, database)
    if isinstance(database, str):  # this thread's connection: wait 50 ms, not 30 s
        assert app._db().execute("SHOW lock_timeout").scalar_one() == "30s", "as long as SQLite, not for ever"
        app._db().execute("SET lock_timeout = '50ms'")
    else:
        app._db().execute("PRAGMA busy_timeout = 50")
    with opened(app) as writer, transaction(writer):  # the write lock
        answer = call(app, "POST", "/subscribe", body=SIGNUP)
    assert answer.code == 503 and answer.headers["Retry-After"] == "60", answer.status
    assert "Please try again" in answer.body
    assert scalar(app.settings.journal_path, "SELECT count(*) FROM subscribers") == 0


def test_a_database_that_cannot_be_opened_is_503(tmp_path: Path) -> None:
    """The file was replaced by something SQLite cannot open (a folder): this thread's first
    connection fails, and the visitor is told to try again."""
    app = web_app(tmp_path)
    database = Path(app.settings.journal_path)
    database.rename(tmp_path / "moved.sqlite3")
    database.mkdir()
    answer = call(app, "POST", "/subscribe", body=SIGNUP)
    assert answer.code == 503 and answer.headers["Retry-After"] == "60", answer.status


def test_a_closed_connection_is_a_500_not_a_retry(tmp_path: Path) -> None:
    """A connection our code closed is a bug: retrying cannot help, so no 503."""
    app = web_app(tmp_path)
    app._db().close()
    answer = call(app, "POST", "/subscribe", body=SIGNUP)
    assert answer.code == 500 and "Retry-After" not in answer.headers, answer.status


def test_other_methods_are_405_with_allow(app: WebApp) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        answer = call(app, method, "/subscribe")
        sound(answer)
        assert answer.code == 405 and answer.headers["Allow"] == "GET, HEAD, POST"


def test_head_has_headers_and_no_body(app: WebApp) -> None:
    answer = call(app, "HEAD", "/subscribe")
    assert answer.code == 200 and answer.body == "" and int(answer.headers["Content-Length"]) > 0


content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
        "",
        "application/json",
        'multipart/form-data; boundary=""',
    ]
)


ROUTES = ("/subscribe", "/subscribe/confirm", "/preferences", "/newsletter/unsubscribe")


def expected_codes(method: str, path: str, query: str) -> set[int]:
    """The status(es) the app must answer, from the request alone (no valid token can arise
    by chance): routing is exact; only a POST to the signup form may be 200 (a filled
    honeypot or a valid form) or 400."""
    verb, route = method.upper(), path.rstrip("/") or "/"
    if route == "/healthz":
        return {200}
    if route not in ROUTES:
        return {404}
    if verb not in ("GET", "HEAD", "POST"):
        return {405}
    try:
        fields = parse_qs(query, max_num_fields=MAX_FIELDS)
    except ValueError:
        return {400}
    if verb == "POST":
        return {200, 400} if route == "/subscribe" else {400}
    if route == "/subscribe":
        return {200}
    if route == "/preferences":
        return {400} if "token" in fields else {200}  # without a token: where to find the link
    return {400}


@given(
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT", "get", ""]),
    path=st.one_of(st.sampled_from(PATHS), st.text(max_size=40)),
    query=st.text(max_size=200),
    body=st.binary(max_size=600),
    content_type=content_types,
)
def test_no_request_gets_a_500(app: WebApp, method: str, path: str, query: str, body: bytes, content_type: str) -> None:
    answer = call(app, method, path, query, body, content_type=content_type)
    sound(answer, method)
    assert answer.code in expected_codes(method, path, query), (answer.status, method, path, query)


@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "email",
                "first_name",
                "last_name",
                "ward",
                "topics",
                "consent",
                "consent_version",
                "form",
                "website",
                "token",
                "action",
                "List-Unsubscribe",
            ]
        ),
        st.one_of(
            st.text(max_size=80),
            st.sampled_from(
                ["yes", "Manor", "schools", "a@example.org", "save", "unsubscribe", "One-Click", "new-link"]
            ),
        ),
        max_size=12,
    ),
    path=st.sampled_from(POSTS),
    token=st.text(max_size=80),
)
def test_any_form_on_any_page_gets_a_page_or_a_4xx(app: WebApp, fields: dict[str, str], path: str, token: str) -> None:
    answer = call(app, "POST", path, urlencode({"token": token}), urlencode(fields).encode())
    sound(answer)
    assert answer.code in expected_codes("POST", path, urlencode({"token": token})), answer.status
