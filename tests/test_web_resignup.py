"""Signing up again through the running `newsletter serve` (waitress, over HTTP) never clears a
person's ward or topics, and sends the confirmation again (or, to someone already subscribed, a
note with their preference link) within the resend window; a real aiosmtpd relay counts the mail.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.store import Store, open_store
from newsletter.store.consent import Evidence
from newsletter.store.subscribers import add_pending, confirm, get
from tests.conftest import REAL_SETTINGS
from tests.support.consent_server import Server as Served
from tests.support.consent_server import request, serving
from tests.support.db import query, write
from tests.support.smtpd import Server

ADDRESS = "zoe.brennan@example.org"
SITE = "https://www.stockport-office.test"


@pytest.fixture
def relay() -> Iterator[Server]:
    with Server() as server:
        yield server


@pytest.fixture
def served(project: Path, relay: Server, on_each_backend: Path | str) -> Iterator[Served]:
    """`serve` on each backend (on_each_backend: NEWSLETTER_DATABASE names PostgreSQL's)."""
    env = {
        **REAL_SETTINGS,
        "UNSUBSCRIBE_URL": f"{SITE}/unsubscribe",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(relay.port),
        "SMTP_SECURITY": "none",
        "NEWSLETTER_WELCOME": "off",  # the emails counted here are signup's (the welcome: test_web_welcome.py)
    }
    with serving(project, env) as server:
        yield server


def signup(server: Served, **fields: str | list[str]) -> int:
    form: dict[str, str | list[str]] = {"email": ADDRESS, "first_name": "Zoë", "consent": "yes", **fields}
    status, _, body = request(f"{server.base}/subscribe", urlencode(form, doseq=True).encode())
    assert "Check your inbox" in body, body
    return status


def held(database: Path | str) -> tuple[Any, ...]:
    [row] = query(database, "SELECT status, first_name, ward, tags FROM subscribers WHERE email = ?", (ADDRESS,))
    return row


def window_passed(database: Path | str) -> None:
    """The last email went out longer ago than NEWSLETTER_SIGNUP_RESEND_MINUTES."""
    write(database, "UPDATE subscribers SET confirmation_sent_at = '2000-01-01T00:00:00+00:00'")


def mail(relay: Server, index: int) -> tuple[str, str]:
    """(Subject, path of the link) of the index-th email the relay received."""
    message = email.message_from_bytes(relay.handler.received[index].data, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [url] = re.findall(rf"{re.escape(SITE)}/\S+token=\S+", text)
    return str(message["Subject"]), url


def test_signing_up_again_while_pending_keeps_ward_and_topics_and_resends_within_the_window(
    on_each_backend: Path | str, relay: Server, served: Served
) -> None:
    assert signup(served, last_name="Brennan", ward="Manor", topics=["schools", "events"]) == 200
    assert held(on_each_backend) == ("pending", "Zoë", "Manor", "schools;events")
    assert relay.handler.recipients() == [ADDRESS]

    assert signup(served) == 200  # a shorter form: no ward, no topics
    assert held(on_each_backend) == ("pending", "Zoë", "Manor", "schools;events"), (
        "the second signup wiped ward or topics"
    )
    assert relay.handler.recipients() == [ADDRESS], "inside the resend window: no second email"

    window_passed(on_each_backend)
    assert signup(served, topics=["housing"]) == 200
    assert held(on_each_backend) == ("pending", "Zoë", "Manor", "schools;events;housing")
    assert relay.handler.recipients() == [ADDRESS, ADDRESS]
    subject, url = mail(relay, 1)
    assert subject.startswith("Please confirm") and urlsplit(url).path == "/subscribe/confirm"

    status, _, page = request(url.replace(SITE, served.base), b"")
    assert status == 200 and "You are subscribed" in page
    assert held(on_each_backend) == ("subscribed", "Zoë", "Manor", "schools;events;housing")


def test_signing_up_again_when_subscribed_changes_nothing_and_mails_the_preference_link(
    on_each_backend: Path | str, relay: Server, served: Served
) -> None:
    signup(served, ward="Manor", topics=["schools"])
    status, _, _ = request(mail(relay, 0)[1].replace(SITE, served.base), b"")
    assert status == 200 and held(on_each_backend) == ("subscribed", "Zoë", "Manor", "schools")

    signup(served, first_name="Mallory")  # inside the window: nothing sent, nothing changed
    assert held(on_each_backend) == ("subscribed", "Zoë", "Manor", "schools") and len(relay.handler.received) == 1

    window_passed(on_each_backend)
    signup(served, ward="Heatons North", topics=["events"])
    assert held(on_each_backend) == ("subscribed", "Zoë", "Manor", "schools"), (
        "an unconfirmed form changed a subscriber"
    )
    assert len(relay.handler.received) == 2
    subject, url = mail(relay, 1)
    assert subject.startswith("You are already subscribed") and urlsplit(url).path == "/preferences"
    status, _, page = request(url.replace(SITE, served.base))
    assert status == 200 and "<option selected>Manor" in page


forms = st.tuples(
    st.sampled_from(["Zoë", "Zoe", ""]),
    st.sampled_from(["", "Manor", "Heatons North"]),
    st.lists(st.sampled_from(["schools", "housing", "events"]), unique=True),
)


@pytest.fixture
def store(database: Path | str) -> Iterator[Store]:
    with open_store(database) as opened:
        yield opened


ADDRESSES = (f"signup-{n}@example.org" for n in itertools.count())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # each example has an address of its own
@given(signups=st.lists(forms, min_size=1, max_size=5), confirmed_after=st.integers(0, 5))
def test_no_sequence_of_signups_clears_a_ward_or_a_topic(
    store: Store, signups: list[tuple[str, str, list[str]]], confirmed_after: int
) -> None:
    """Whatever a stranger sends, in any order: once given, a ward stays set and a topic stays
    chosen while pending; once subscribed, a form changes nothing. On each backend, one
    database for the run, a new address for each example."""
    web = Evidence("web-form")
    address = next(ADDRESSES)
    ward, topics = "", set[str]()
    for n, (first, new_ward, new_topics) in enumerate(signups):
        if n == confirmed_after:
            confirm(store.db, address, web)
        before = get(store.db, address)
        record = add_pending(store.db, address, first, "", new_ward, new_topics, web)
        if before is not None and before.status == "subscribed":
            assert record == before
            continue
        ward, topics = new_ward or ward, topics | set(new_topics)
        assert (record.status, record.ward, set(record.tags)) == ("pending", ward, topics)
