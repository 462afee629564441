"""Property-based tests over the input boundaries (issue 12): YAML and front matter, the
subscriber CSV loader, the bounce classifier, the web app and the HTML a message carries.

Each property is named after the contract it checks. The suite runs the "suite" profile;
`benchmarks/hostile_long.py` runs the same properties with 10,000 examples each.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from newsletter.audience.csvfile import load_audience
from newsletter.audience.dsn import classify
from newsletter.audience.people import Subscriber
from newsletter.content import prose
from newsletter.errors import InputError
from newsletter.gates.address import clean_name
from newsletter.mail.compose import Composed
from newsletter.yamlfile import load_mapping
from tests.hostile.strategies import NASTY, hostile_text
from tests.support.sending import composed_issue
from tests.support.web import web_app

LOCATED = re.compile(r"^issues/x\.yaml(:\d+)?: ")
YAML_PIECES = st.sampled_from(
    [
        "subject: ",
        "date: ",
        "2018-02-30",
        "0000-01-01",
        "&a ",
        "*a",
        "[",
        "]",
        "{",
        "}",
        "\n",
        "\n  ",
        "\t",
        "- ",
        ": ",
        "!!python/object:os.system",
        "'",
        '"',
        "\x00",
        "#",
        "|",
        ">",
        "?",
        "---",
        "...",
        "\ufeff",
        "\\x00",
        "99999-99-99",
        "<<: *a",
    ]
)


@given(st.one_of(hostile_text(), st.lists(YAML_PIECES, max_size=30).map("".join)))
def test_yaml_is_a_mapping_or_one_line_naming_file_and_line(text: str) -> None:
    try:
        doc = load_mapping(text, Path("issues/x.yaml"))
    except InputError as exc:
        message = str(exc)
        assert LOCATED.match(message), message
        assert "\n" not in message and len(message) < 400
        return
    assert isinstance(doc.data, dict)


@given(st.one_of(hostile_text(), st.lists(YAML_PIECES, max_size=30).map("".join)))
def test_front_matter_errors_count_lines_from_the_file(text: str) -> None:
    try:
        load_mapping(text, Path("issues/x.yaml"), line_offset=1)
    except InputError as exc:
        found = re.match(r"^issues/x\.yaml:(\d+): ", str(exc))
        lines = len(re.split(r"\r\n|[\n\r\x85\u2028\u2029]", text))  # YAML's line breaks
        assert found is None or 2 <= int(found.group(1)) <= lines + 2, str(exc)


CSV_PIECES = st.sampled_from(
    [
        "email",
        "first_name",
        "consented_at",
        ",",
        ";",
        "\n",
        "\r\n",
        '"',
        "a@example.org",
        "2018-01-01",
        "2018-02-30",
        "=1+1",
        "[/]",
        "\x00",
        "\ufeff",
        "ü@example.org",
        " ",
    ]
)


@given(st.one_of(hostile_text(), st.lists(CSV_PIECES, max_size=40).map("".join)))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_subscriber_csv_is_an_audience_or_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        audience = load_audience(path)
    except InputError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert audience.rows == len(audience.subscribers) + len(audience.skipped)  # every row accounted for
    for subscriber in audience.subscribers:
        assert subscriber.email.isascii() and "," not in subscriber.email and "\n" not in subscriber.email
        assert subscriber.consented_at is not None
    for skipped in audience.skipped:
        assert skipped.reason and skipped.line >= 2


MESSAGE_PIECES = st.sampled_from(
    [
        "From: a@example.org\n",
        "From: a@example.org, b@example.org\n",
        "To: unsubscribe@example.org\n",
        "Subject: unsubscribe x\n",
        "X-Failed-Recipients: c@example.org\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=z\n",
        "Content-Type: text/plain; charset=x-nope\n",
        "\n",
        "--z\n",
        "Content-Type: message/delivery-status\n",
        "Final-Recipient: rfc822; d@example.org\n",
        "Action: failed\n",
        "Status: 5.1.1\n",
        "Status: 9.9.9\n",
        "--z--\n",
        "550 5.1.1 no\n",
        "=?utf-8?q?=0D=0A?=",
        "\udce9",
        "\x00",
        "Content-Transfer-Encoding: base64\n",
        "Content-Type: message/rfc822\n",
    ]
)


@given(st.lists(st.one_of(MESSAGE_PIECES, hostile_text(20)), max_size=30).map("".join))
def test_the_bounce_classifier_reads_any_message_or_says_why(text: str) -> None:
    message = email.message_from_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        findings, _token = classify(message, "unsubscribe@example.org")
    except (LookupError, UnicodeError, ValueError, RecursionError):
        return  # the importer skips these by mailbox key (tests/test_hostile_corpus.py proves it goes on)
    for finding in findings:
        assert finding.kind in ("hard", "soft", "complaint", "unsubscribe")
        assert "," not in finding.email or finding.kind != "unsubscribe"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return web_app(tmp_path_factory.mktemp("web"))


@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "X"]),
    path=st.one_of(
        st.sampled_from(
            [
                "/newsletter/unsubscribe",
                "/subscribe",
                "/subscribe/confirm",
                "/preferences",
                "/healthz",
                "/",
                "/newsletter/unsubscribe/",
            ]
        ),
        hostile_text(30),
    ),
    query=st.one_of(
        hostile_text(),
        st.lists(st.sampled_from(["token=", "a=b", "&", "%", "%00", "=", "x"]), max_size=60).map("".join),
    ),
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=z",
            "multipart/form-data",
            "text/plain",
        ]
    ),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_web_app_never_answers_500(
    app: Any, method: str, path: str, query: str, body: bytes, content_type: str
) -> None:
    captured: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = status

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
    }
    out = b"".join(app(environ, start_response))
    assert 200 <= int(captured["status"][:3]) < 500, captured["status"]
    assert b"<script" not in out.lower()


@given(
    st.lists(
        st.one_of(
            hostile_text(20),
            st.sampled_from(
                [
                    "<script>alert(1)</script>",
                    "<img src=x onerror=a()>",
                    "[x](javascript:alert(1))",
                    "<a href='x'>",
                    "![i](javascript:x)",
                    "\n\n",
                    "*",
                    "`",
                ]
            ),
        ),
        max_size=12,
    ).map("".join)
)
def test_an_article_body_never_becomes_raw_html(markdown: str) -> None:
    html = str(prose.to_html(markdown)).lower()
    assert "<script" not in html and "<img src=x" not in html and "<a href='x'>" not in html
    assert 'href="javascript:' not in html and 'src="javascript:' not in html


@pytest.fixture(scope="module")
def composed(tmp_path_factory: pytest.TempPathFactory) -> Composed:
    import shutil

    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("office")
    for name in ("issues", "articles", "templates"):
        shutil.copytree(REPO / name, root / name)
    return composed_issue(root)


@given(first=st.one_of(hostile_text(30), NASTY), last=hostile_text(30))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_name_is_text_in_every_part_and_never_a_header(composed: Composed, first: str, last: str) -> None:
    subscriber = Subscriber(email="reader@example.org", first_name=first, last_name=last)
    data = composed.factory.build(subscriber).data
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert [a.addr_spec for a in message["To"].addresses] == ["reader@example.org"]
    assert message.get_all("Bcc") is None and len(message.get_all("To") or []) == 1
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    name = clean_name(first)
    if re.search(r"<[A-Za-z/!]", name):  # anything tag-like arrives escaped
        assert name not in html
    assert str(escape(name)) in html or not name
