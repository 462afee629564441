"""The web app's input boundary: whatever a client sends, the answer is a page, never a 500 and
never a redirect; limits answer 4xx. Hand-written cases, then hypothesis."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.web.app import WebApp
from newsletter.web.http import MAX_BODY
from tests.support.web import Answer, call, web_app

PATHS = ["/subscribe", "/subscribe/confirm", "/preferences", "/newsletter/unsubscribe", "/healthz"]
POSTS = PATHS[:4]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> WebApp:
    return web_app(tmp_path_factory.mktemp("office"), NEWSLETTER_SIGNUP_PER_IP="1000000")


def sound(answer: Answer, method: str = "GET") -> None:
    """What every answer must be, whatever was asked."""
    assert answer.code < 500 or answer.code == 503, answer.status
    assert answer.code != 500
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


def test_a_closed_database_is_503_not_500(tmp_path: Path) -> None:
    app = web_app(tmp_path)
    app._db().close()  # this thread's connection, as if the file had gone away under it
    form = urlencode({"email": "a@example.org", "first_name": "A", "consent": "yes"}).encode()
    answer = call(app, "POST", "/subscribe", body=form)
    sound(answer)
    assert answer.code == 503 and answer.headers["Retry-After"] == "60"
    with sqlite3.connect(app.settings.journal_path) as db:
        assert db.execute("SELECT count(*) FROM subscribers").fetchone() == (0,)


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


@given(
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT", "get", ""]),
    path=st.one_of(st.sampled_from(PATHS), st.text(max_size=40)),
    query=st.text(max_size=200),
    body=st.binary(max_size=600),
    content_type=content_types,
)
def test_no_request_gets_a_500(app: WebApp, method: str, path: str, query: str, body: bytes, content_type: str) -> None:
    sound(call(app, method, path, query, body, content_type=content_type), method)


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
    assert answer.code in (200, 400, 409, 413, 429)
