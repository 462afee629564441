"""multipart/form-data bodies, read by the `multipart` package (RFC 7578) rather than the email
parser: RFC 8058's own one-click example works, a body that is not whole or not a form is a 400
(the email parser took a truncated body, extra parts and file uploads), on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.tokens import make_token
from newsletter.web.app import WebApp
from newsletter.web.http import MAX_FIELDS, BadRequest, _multipart
from tests.support.db import query
from tests.support.web import LIST_ID, SECRET, call, web_app

ADDRESS = "anne.example@example.org"
BOUNDARY = "-FormBoundaryjWmhtjORrn"
TYPE = f"multipart/form-data; boundary={BOUNDARY}"
ONE_CLICK = b'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n'


@pytest.fixture
def app(tmp_path: Path, database: Path | str) -> WebApp:
    return web_app(tmp_path, NEWSLETTER_JOURNAL=str(database))


def body(*parts: bytes, end: bool = True) -> bytes:
    out = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part for part in parts)
    return out + (b"--" + BOUNDARY.encode() + b"--\r\n" if end else b"")


def unsubscribe(app: WebApp, payload: bytes) -> int:
    token = make_token(ADDRESS, LIST_ID, SECRET)
    return call(app, "POST", "/newsletter/unsubscribe", f"token={token}", payload, content_type=TYPE).code


def suppressed(app: WebApp) -> list[tuple[str, ...]]:
    return query(app.settings.journal_path, "SELECT email, source FROM suppressions")


def test_rfc_8058_example_unsubscribes(app: WebApp) -> None:
    assert unsubscribe(app, body(ONE_CLICK)) == 200
    assert suppressed(app) == [(ADDRESS, "one-click (RFC 8058)")]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(body(ONE_CLICK, end=False), id="no-closing-boundary"),
        pytest.param(
            body(ONE_CLICK, *[b'Content-Disposition: form-data; name="x"\r\n\r\n1\r\n'] * MAX_FIELDS),
            id="too-many-parts",
        ),
        pytest.param(
            body(b'Content-Disposition: form-data; name="List-Unsubscribe"; filename="a.txt"\r\n\r\nOne-Click\r\n'),
            id="a-file-upload",
        ),
        pytest.param(body(ONE_CLICK).replace(b"\r\n", b"\n"), id="bare-line-feeds"),
    ],
)
def test_a_body_that_is_not_a_whole_form_is_400_and_changes_nothing(app: WebApp, payload: bytes) -> None:
    assert unsubscribe(app, payload) == 400
    assert suppressed(app) == []


names = st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n\x00'), min_size=1, max_size=20)
texts = st.text(st.characters(codec="utf-8", exclude_characters="\r\x00"), max_size=40).map(str.strip)


@given(st.dictionaries(names, texts, min_size=1, max_size=MAX_FIELDS))
def test_fields_come_back_as_sent(fields: dict[str, str]) -> None:
    """Whatever a browser encodes (any names and values, non-ASCII included) is read back as sent."""
    parts = [
        b'Content-Disposition: form-data; name="' + k.encode() + b'"\r\n\r\n' + v.encode() + b"\r\n"
        for k, v in fields.items()
    ]
    assert _multipart(TYPE, body(*parts)) == {k[:100]: [v] for k, v in fields.items()}


@given(st.binary(max_size=300))
def test_any_bytes_are_fields_or_a_400(raw: bytes) -> None:
    try:
        _multipart(TYPE, body(raw))
    except BadRequest as exc:
        assert exc.status == "400 Bad Request"
