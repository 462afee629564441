""" "Email me my preferences link" on /preferences without a token: the same answer whether or
not the address is on the list, the link mailed (through a real relay) only to a subscribed
address, and the signup's per-client limit on it; on both backends."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from newsletter.store import connect
from newsletter.store import subscribers as store
from newsletter.store.consent import Evidence
from newsletter.web.app import WebApp
from tests.support.smtpd import Server
from tests.support.web import call, relayed_app

KNOWN = "kemi.adeyemi@example.org"


@pytest.fixture
def relay() -> Iterator[Server]:
    with Server() as server:
        yield server


@pytest.fixture
def app(tmp_path: Path, relay: Server, database: Path | str) -> WebApp:
    app = relayed_app(tmp_path, relay.port, NEWSLETTER_JOURNAL=str(database), NEWSLETTER_SIGNUP_PER_IP="3")
    with connect(database) as db:
        staff = Evidence("staff", "test set-up")
        store.add_pending(db, KNOWN, "Kemi", "", "", [], staff)
        store.confirm(db, KNOWN, staff)
    return app


def ask(app: WebApp, address: str, client: str = "192.0.2.10") -> tuple[int, str]:
    body = urlencode({"action": "email-link", "email": address}).encode()
    answer = call(app, "POST", "/preferences", body=body, client=client)
    return answer.code, answer.body


def test_the_page_without_a_token_offers_to_email_the_link(app: WebApp) -> None:
    page = call(app, "GET", "/preferences")
    assert page.code == 200 and "Email me my preferences link" in page.body and 'name="email"' in page.body


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_mail(
    app: WebApp, relay: Server
) -> None:
    known, unknown = ask(app, KNOWN), ask(app, "nobody@example.org")
    assert known == unknown and known[0] == 200 and "Check your inbox" in known[1]
    assert relay.handler.recipients() == [KNOWN]
    message = email.message_from_bytes(relay.handler.received[0].data, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/preferences?token=" in text and "Kemi" not in text


def test_a_bad_address_is_400_and_the_limit_is_the_signups(app: WebApp, relay: Server) -> None:
    code, page = ask(app, "not an address")
    assert code == 400 and "Enter an email address like name@example.org" in page
    assert [ask(app, f"p{n}@example.org")[0] for n in range(3)] == [200, 200, 429]
    assert ask(app, KNOWN, client="192.0.2.99")[0] == 200, "another client is not limited"
    assert relay.handler.recipients() == [KNOWN]
