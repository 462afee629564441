"""The signup form cannot be used to send a stranger someone else's text (listmonk #1133): a flood
of signups through the real HTTP server, each with spam typed as the name, reaches the real
relay as confirmation mails that carry none of it; and a hypothesis property over any name."""

from __future__ import annotations

import email
import email.policy
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.web.app import WebApp
from tests.support.smtpd import Server
from tests.support.web import call, over_http, relayed_app, web_app

SPAM = "Claim your prize at http://spam.example.com/win now"


@pytest.fixture
def relay() -> Iterator[Server]:
    with Server() as server:
        yield server


def post(base: str, address: str, first: str, last: str = "") -> int:
    form = urlencode({"email": address, "first_name": first, "last_name": last, "consent": "yes"}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{base}/subscribe", data=form), timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_flood_of_signups_with_spam_as_the_name_mails_none_of_it(
    tmp_path: Path, relay: Server, database: Path | str
) -> None:
    app = relayed_app(tmp_path, relay.port, NEWSLETTER_JOURNAL=str(database), NEWSLETTER_SIGNUP_PER_IP="1000")
    with over_http(app) as base:
        codes = [post(base, f"victim{n}@example.org", SPAM[:60], SPAM[:60]) for n in range(12)]
    assert codes == [200] * 12
    assert len(relay.handler.received) == 12, "each victim got one confirmation"
    for received in relay.handler.received:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_maintype() == "text":
                content = part.get_content()
                assert "spam.example.com" not in content and "prize" not in content
        assert "prize" not in str(message["Subject"]) and "prize" not in str(message["To"])


# Distinctive typed text (letters of any script after a marker), so finding it means it was copied.
words = st.text(st.characters(categories=["L"]), min_size=6, max_size=30).map(lambda w: "Qz" + w)


@pytest.fixture(scope="module")
def outbox_app(tmp_path_factory: pytest.TempPathFactory) -> WebApp:
    return web_app(tmp_path_factory.mktemp("office"), NEWSLETTER_SIGNUP_PER_IP="1000000")


@settings(max_examples=25)
@given(first=words, last=words, n=st.integers(0, 10**9))
def test_no_typed_name_reaches_a_confirmation(outbox_app: WebApp, first: str, last: str, n: int) -> None:
    address = f"p{n}@example.org"
    form = urlencode({"email": address, "first_name": first, "last_name": last, "consent": "yes"}).encode()
    answer = call(outbox_app, "POST", "/subscribe", body=form)
    assert answer.code in (200, 429)
    written = Path(outbox_app.mail.outbox.folder) / f"{address}.eml"
    if answer.code == 200 and written.exists():
        message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
        bodies = "".join(p.get_content() for p in message.walk() if p.get_content_maintype() == "text")
        assert first not in bodies and last not in bodies
