"""Per-recipient messages: headers, structure, encoding, injection, and that they parse back."""

from __future__ import annotations

import email
import email.policy
import quopri
import re
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.audience.people import Subscriber
from newsletter.audience.tokens import PREFERENCES, make_token, verify_link_token, verify_token
from newsletter.content.render import PLACEHOLDERS
from newsletter.mail.compose import Composed, compose
from newsletter.mail.message import MessageFactory, wire_form
from newsletter.settings import load_settings
from tests.conftest import REPO


@pytest.fixture(scope="module")
def composed() -> Composed:
    return compose(REPO / "issues" / "spring-2018.yaml", load_settings({}))


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = list(message.iter_parts())
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    return str(text.get_content()), str(html.get_content())


def test_headers_and_structure(composed: Composed) -> None:
    subscriber = Subscriber(email="ann@example.org", first_name="Ann", last_name="Smith")
    message = parse(composed.factory.build(subscriber).data)
    assert message["From"] == "Ann Coffey MP <news@example.org>"
    assert message["From"].addresses[0].display_name == "Ann Coffey MP"
    assert message["To"] == "Ann Smith <ann@example.org>"
    assert message["Reply-To"].addresses[0].addr_spec == "office@example.org"
    assert message["Subject"] == composed.issue.subject
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<spring-2018\.[0-9a-f]{20}@example\.org>", message["Message-ID"])
    assert message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert text.startswith("Ann Coffey MP") and "Dear Ann," in text
    assert "Dear Ann," in html
    for token in PLACEHOLDERS.values():
        assert token not in text and token not in html
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())


def test_list_unsubscribe_carries_a_signed_token_for_this_address(composed: Composed) -> None:
    message = parse(composed.factory.build(Subscriber(email="ann@example.org")).data)
    mailto, https = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert mailto.startswith("mailto:unsubscribe@example.org?subject=unsubscribe%20")
    assert https.startswith("https://www.example.org/unsubscribe?token=")
    token = https.split("token=", 1)[1]
    settings = composed.settings
    assert verify_token(token, settings.list_id, [settings.unsubscribe_secret]) == "ann@example.org"
    assert verify_token(token, settings.list_id, ["another-secret"]) is None
    assert verify_token(token, "Other <other.example.org>", [settings.unsubscribe_secret]) is None
    forged = make_token("bob@example.org", settings.list_id, "guess")
    assert verify_token(forged, settings.list_id, [settings.unsubscribe_secret]) is None
    text, html = parts(message)
    assert https in text
    assert https in html


def test_the_footer_carries_a_signed_preference_link_for_this_address(composed: Composed) -> None:
    message = parse(composed.factory.build(Subscriber(email="ann@example.org")).data)
    text, html = parts(message)
    [url] = set(re.findall(r"https://www\.example\.org/preferences\?token=[A-Za-z0-9_.-]+", text))
    assert f'href="{url}"' in html and "Manage your preferences" in html
    settings = composed.settings
    token = url.split("token=", 1)[1]
    now = composed.factory.issued
    found = verify_link_token(
        token, PREFERENCES, settings.list_id, [settings.unsubscribe_secret], max_age=3600, now=now
    )
    assert found == ("ann@example.org", False)
    assert verify_token(token, settings.list_id, [settings.unsubscribe_secret]) is None, "not an unsubscribe token"
    assert (
        verify_link_token(token, "confirm", settings.list_id, [settings.unsubscribe_secret], max_age=3600, now=now)
        is None
    ), "a preference token must not confirm a signup"
    other = parse(composed.factory.build(Subscriber(email="bob@example.org")).data)
    assert url not in parts(other)[0]


def test_every_message_is_unique_and_otherwise_identical(composed: Composed) -> None:
    first = composed.factory.build(Subscriber(email="a@example.org", first_name="A")).data
    second = composed.factory.build(Subscriber(email="a@example.org", first_name="A")).data

    def stable(data: bytes) -> bytes:
        return re.sub(rb"(Message-ID|Date): [^\r]*\r\n", b"", data)

    assert parse(first)["Message-ID"] != parse(second)["Message-ID"]
    assert stable(first) == stable(second)


def test_header_injection_through_a_name_is_impossible(composed: Composed) -> None:
    subscriber = Subscriber(
        email="bob@example.org", first_name="Bob\r\nBcc: victim@example.com", last_name="X\nCc: y@example.com"
    )
    data = composed.factory.build(subscriber).data
    message = parse(data)
    assert message["Bcc"] is None and message["Cc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["bob@example.org"]
    header_block = data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(Bcc|Cc):", header_block, re.M | re.I)


def test_html_in_a_name_is_escaped_in_the_html_part(composed: Composed) -> None:
    subscriber = Subscriber(email="eve@example.org", first_name="<script>alert(1)</script>")
    text, html = parts(parse(composed.factory.build(subscriber).data))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Dear <script>alert(1)</script>," in text


def test_non_ascii_names_and_subject_are_encoded(composed: Composed) -> None:
    settings = load_settings({"NEWSLETTER_FROM": "Åsa Lindqvist MP <news@example.org>"})
    rendered = composed.rendered
    factory = MessageFactory(
        type(rendered)(rendered.issue, "Nyheter: Zoë & Łukasz 🎉", rendered.html, rendered.text), settings
    )
    data = factory.build(Subscriber(email="zoe@example.org", first_name="Zoë", last_name="Ó Siadhail")).data
    data.decode("ascii")  # every header and body byte is 7-bit
    message = parse(data)
    assert message["Subject"] == "Nyheter: Zoë & Łukasz 🎉"
    assert message["To"].addresses[0].display_name == "Zoë Ó Siadhail"
    assert message["From"].addresses[0].display_name == "Åsa Lindqvist MP"
    text, html = parts(message)
    assert "Dear Zoë," in text and "Dear Zoë," in html


def test_no_first_name_falls_back(composed: Composed) -> None:
    text, _ = parts(parse(composed.factory.build(Subscriber(email="x@example.org")).data))
    assert "Dear constituent," in text


def test_encoded_lines_are_legal(composed: Composed) -> None:
    """RFC 5322/2045: CRLF only, no line over 998 bytes, quoted-printable lines at most 76."""
    long_name = "Maximilian-Alexander " * 3
    data = composed.factory.build(
        Subscriber(email="very.long.address.for.testing@example.org", first_name=long_name)
    ).data
    assert b"\n" not in data.replace(b"\r\n", b"")
    head, body = data.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    for line in body.split(b"\r\n"):
        assert len(line) <= 76, line
    _text, html = parts(parse(data))
    assert "very.long.address.for.testing@example.org" in html
    assert quopri.decodestring(body)  # decodes without error


def test_parses_back_to_the_rendered_content(composed: Composed) -> None:
    subscriber = Subscriber(email="ann@example.org", first_name="Ann")
    html_expected, text_expected = composed.personalise(subscriber)
    text, html = parts(parse(composed.factory.build(subscriber).data))
    assert html.replace("\r\n", "\n") == html_expected
    assert text.replace("\r\n", "\n") == text_expected


def test_a_token_altered_in_any_character_is_refused(composed: Composed) -> None:
    settings = composed.settings
    token = make_token("ann@example.org", settings.list_id, settings.unsubscribe_secret)
    for index, char in enumerate(token):
        for replacement in ("A", "B", "Q", "g", "_"):
            if replacement == char:
                continue
            altered = token[:index] + replacement + token[index + 1 :]
            assert verify_token(altered, settings.list_id, [settings.unsubscribe_secret]) is None, (index, altered)


@given(first=st.text(alphabet=".a é", max_size=60), local=st.from_regex(r"[a-z](\.?[a-z0-9]){0,10}", fullmatch=True))
def test_the_smtp_form_is_the_message_dot_stuffed_once(composed: Composed, first: str, local: str) -> None:
    """The factory's pre-stuffed parts give exactly what stuffing the whole message would."""
    message = composed.factory.build(Subscriber(email=f"{local}@example.org", first_name=first), wire=True)
    assert message.wire == wire_form(message.data)
    assert message.wire.endswith(b"\r\n.\r\n") and b"\r\n.\r\n" not in message.wire[:-5]


def test_wire_form_stuffs_every_line_that_starts_with_a_dot() -> None:
    assert wire_form(b".a\r\nb\r\n..c") == b"..a\r\nb\r\n...c\r\n.\r\n"
