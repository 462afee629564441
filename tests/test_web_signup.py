"""Signup, confirmation and preferences through the web application called directly, with a
real SQLite file and confirmation emails caught by a real aiosmtpd on 127.0.0.1 (the served,
in-browser path is in test_web_browser.py)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

from newsletter.audience.tokens import CONFIRM, PREFERENCES, make_link_token, make_token
from newsletter.store import Connection, subscribers
from newsletter.store.consent import events
from newsletter.web.app import WebApp
from tests.conftest import REAL_SETTINGS, Run
from tests.support.smtpd import Server
from tests.support.web import LIST_ID, SECRET, Answer, call, opened, web_app

ADDRESS = "zoe.brennan@example.org"
# A relay is set, so every outward value must be real (a confirmation email is real mail).
REAL = {
    **{k: v for k, v in REAL_SETTINGS.items() if k not in ("NEWSLETTER_LIST_ID", "UNSUBSCRIBE_SECRET")},
    "UNSUBSCRIBE_URL": "https://www.stockport-office.test/newsletter/unsubscribe",
}


@pytest.fixture
def relay() -> Iterator[Server]:
    with Server() as server:
        yield server


@pytest.fixture
def app(tmp_path: Path, relay: Server, database: Path | str) -> WebApp:
    """On each backend: everything signup and preferences keep is in the database."""
    return web_app(
        tmp_path,
        database,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(relay.port),
        SMTP_SECURITY="none",
        NEWSLETTER_SIGNUP_PER_IP="5",
        NEWSLETTER_WELCOME="off",  # the emails counted here are signup's (the welcome: test_web_welcome.py)
        **REAL,
    )


def signup(app: WebApp, address: str = ADDRESS, client: str = "192.0.2.10", **fields: str | list[str]) -> Answer:
    form: dict[str, str | list[str]] = {
        "email": address,
        "first_name": "Zoë",
        "last_name": "Brennan",
        "ward": "Edgeley and Cheadle Heath",
        "topics": ["schools", "events"],
        "consent": "yes",
        "consent_version": "1",
        "form": "signup-page",
    }
    form.update(fields)
    return call(app, "POST", "/subscribe", body=urlencode(form, doseq=True).encode(), client=client)


def db(app: WebApp) -> Connection:
    return opened(app)


def record(app: WebApp, address: str = ADDRESS) -> subscribers.SubscriberRecord | None:
    with db(app) as connection:
        return subscribers.get(connection, address)


def kinds(app: WebApp, address: str = ADDRESS) -> list[str]:
    with db(app) as connection:
        return [e.kind for e in events(connection, address)]


def link_in(relay: Server, index: int = -1) -> tuple[str, str]:
    """(path, token) of the link in the index-th email the relay received."""
    message = email.message_from_bytes(relay.handler.received[index].data, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [url] = re.findall(r"https://www\.stockport-office\.test/\S+token=\S+", text)
    parts = urlsplit(url)
    return parts.path, parts.query.removeprefix("token=")


def test_the_form_offers_the_configured_wards_topics_and_consent_wording(tmp_path: Path) -> None:
    app = web_app(
        tmp_path,
        NEWSLETTER_WARDS="Manor; Heatons North",
        NEWSLETTER_TOPICS="Schools;Transport",
        NEWSLETTER_CONSENT_STATEMENT="Yes, send me the newsletter.",
        NEWSLETTER_CONSENT_VERSION="2026-11",
        NEWSLETTER_PRIVACY_URL="https://www.example.org/privacy-notice",
    )
    page = call(app, "GET", "/subscribe")
    assert page.code == 200 and "<script" not in page.body
    assert re.findall(r"<option>([^<]+)</option>", page.body) == ["Manor", "Heatons North"]
    assert re.findall(r'name="topics" value="([^"]+)"', page.body) == ["schools", "transport"]
    assert "Yes, send me the newsletter." in page.body and 'value="2026-11"' in page.body
    assert 'href="https://www.example.org/privacy-notice"' in page.body
    assert '<form method="post" action="/subscribe" id="signup">' in page.body
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'sha256-")


def test_signup_stores_pending_with_evidence_and_sends_one_confirmation(app: WebApp, relay: Server) -> None:
    answer = signup(app)
    assert answer.code == 200 and "Check your inbox" in answer.body
    held = record(app)
    assert held is not None and held.status == "pending" and held.first_name == "Zoë"
    assert held.ward == "Edgeley and Cheadle Heath" and held.tags == ("schools", "events")
    with db(app) as connection:
        [event] = events(connection, ADDRESS)
    assert (event.kind, event.source, event.ip, event.user_agent) == ("signed-up", "web-form", "192.0.2.10", "pytest")
    assert event.wording == app.web.consent_statement and "version 1" in event.detail and "signup-page" in event.detail
    assert relay.handler.recipients() == [ADDRESS]
    message = email.message_from_bytes(relay.handler.received[0].data, policy=email.policy.default)
    assert message["Subject"].startswith("Please confirm") and message["Auto-Submitted"] == "auto-generated"
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Dear constituent," in html and "Zoë" not in html, "no typed text in a confirmation (listmonk #1133)"
    path, token = link_in(relay)
    assert path == "/subscribe/confirm" and token.count(".") == 2
    assert held.confirmation_sent_at is not None


def test_get_of_the_link_confirms_nobody_and_the_button_does(app: WebApp, relay: Server) -> None:
    signup(app)
    path, token = link_in(relay)
    for _ in range(3):  # a mail scanner, a link preview, the person
        page = call(app, "GET", path, f"token={token}")
        assert page.code == 200 and "zo***@example.org" in page.body and ADDRESS not in page.body
        assert '<button type="submit">Confirm my subscription</button>' in page.body
    assert (record(app) or pytest.fail()).status == "pending"
    done = call(app, "POST", path, f"token={token}", f"token={token}".encode())
    assert done.code == 200 and "You are subscribed" in done.body
    assert (record(app) or pytest.fail()).status == "subscribed"
    assert kinds(app) == ["signed-up", "confirmed"]
    again = call(app, "POST", path, f"token={token}", b"")
    assert again.code == 200 and kinds(app) == ["signed-up", "confirmed"], "a second press changes nothing"
    assert re.search(r'href="/preferences\?token=[^"]+"', done.body)


def test_the_answer_is_the_same_for_a_listed_address_which_gets_a_note_instead(app: WebApp, relay: Server) -> None:
    first = signup(app)
    call(app, "POST", "/subscribe/confirm", f"token={link_in(relay)[1]}")
    with db(app) as connection:
        subscribers.mark_confirmation_sent(connection, ADDRESS, "2000-01-01T00:00:00+00:00")
    second = signup(app, first_name="Mallory", ward="Manor")
    assert second.status == first.status and second.body == first.body
    held = record(app)
    assert held is not None and held.status == "subscribed"
    assert held.first_name == "Zoë", "an unconfirmed form changes nothing"
    assert len(relay.handler.received) == 2
    message = email.message_from_bytes(relay.handler.received[1].data, policy=email.policy.default)
    assert message["Subject"].startswith("You are already subscribed")
    assert link_in(relay)[0] == "/preferences"


def test_a_flood_for_one_address_sends_one_confirmation_per_period(app: WebApp, relay: Server) -> None:
    answers = [signup(app, client=f"198.51.100.{n}") for n in range(8)]
    assert {a.body for a in answers} == {answers[0].body} and all(a.code == 200 for a in answers)
    assert relay.handler.recipients() == [ADDRESS]
    with db(app) as connection:
        subscribers.mark_confirmation_sent(connection, ADDRESS, "2000-01-01T00:00:00+00:00")  # the period passed
    signup(app, client="198.51.100.99")
    assert relay.handler.recipients() == [ADDRESS, ADDRESS]


def test_the_honeypot_gets_the_same_page_and_nothing_happens(app: WebApp, relay: Server) -> None:
    answer = signup(app, website="http://spam.example.com")
    assert answer.code == 200 and "Check your inbox" in answer.body
    assert record(app) is None and relay.handler.received == []


def test_too_many_signups_from_one_client_get_429(app: WebApp, relay: Server) -> None:
    codes = [signup(app, f"person{n}@example.org", client="203.0.113.7").code for n in range(7)]
    assert codes == [200] * 5 + [429] * 2
    limited = signup(app, "late@example.org", client="203.0.113.7")
    assert int(limited.headers["Retry-After"]) > 0 and record(app, "late@example.org") is None
    assert signup(app, "other@example.org", client="203.0.113.8").code == 200
    assert len(relay.handler.received) == 6


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"email": "not-an-address"}, "Enter an email address"),
        ({"email": ""}, "Enter your email address"),
        ({"first_name": "  "}, "Enter your first name"),
        ({"ward": "Westminster"}, "Choose a ward from the list"),
        ({"topics": ["schools", "horse racing"]}, "Choose topics from the list"),
        ({"consent": ""}, "Tick the box"),
    ],
)
def test_bad_input_shows_the_form_again_with_the_reason(
    app: WebApp, relay: Server, fields: dict[str, str], error: str
) -> None:
    answer = signup(app, **fields)
    assert answer.code == 400 and error in answer.body and 'class="error"' in answer.body
    assert 'value="Brennan"' in answer.body, "what was typed is kept"
    assert record(app) is None and relay.handler.received == []


def test_a_relay_that_is_down_gets_503_and_the_signup_is_kept(tmp_path: Path, database: Path | str) -> None:
    with Server() as relay:
        port = relay.port
    app = web_app(
        tmp_path, database, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none", SMTP_TIMEOUT="2", **REAL
    )
    answer = signup(app)
    assert answer.code == 503 and "try again" in answer.body
    held = record(app)
    assert held is not None and held.status == "pending" and held.confirmation_sent_at is None


def test_without_a_relay_the_confirmation_goes_to_the_outbox(tmp_path: Path) -> None:
    app = web_app(tmp_path)
    assert signup(app).code == 200
    written = tmp_path / "outbox" / "confirmations" / f"{ADDRESS}.eml"
    assert "subscribe/confirm?token=3D" in written.read_text()


def test_expired_forged_and_repurposed_confirmation_links_change_nothing(app: WebApp, relay: Server) -> None:
    signup(app)
    old = make_link_token(CONFIRM, ADDRESS, LIST_ID, SECRET, 1_600_000_000)
    expired = call(app, "POST", "/subscribe/confirm", f"token={old}")
    assert expired.code == 400 and "expired" in expired.body
    for bad in (
        make_link_token(PREFERENCES, ADDRESS, LIST_ID, SECRET, int(app.links.clock())),
        make_token(ADDRESS, LIST_ID, SECRET),
        "garbage",
        "",
    ):
        answer = call(app, "POST", "/subscribe/confirm", f"token={quote(bad)}")
        assert answer.code == 400 and "not valid" in answer.body
    assert (record(app) or pytest.fail()).status == "pending"


def subscribed(app: WebApp, relay: Server, address: str = ADDRESS) -> str:
    """Sign up and confirm; returns a preference token."""
    signup(app, address)
    call(app, "POST", "/subscribe/confirm", f"token={link_in(relay)[1]}")
    return app.links.preferences_link(address).split("token=")[1]


def test_preferences_show_and_change_what_is_held(app: WebApp, relay: Server) -> None:
    token = subscribed(app, relay)
    with db(app) as connection:  # a tag set by staff, not a topic on the form
        connection.execute("UPDATE subscribers SET tags = 'casework;schools' WHERE email = ?", (ADDRESS,))
    page = call(app, "GET", "/preferences", f"token={token}")
    assert page.code == 200 and 'value="Zoë"' in page.body and "<option selected>Edgeley and Cheadle Heath" in page.body
    form = urlencode(
        {
            "token": token,
            "action": "save",
            "first_name": "Zoe",
            "last_name": "",
            "ward": "Manor",
            "topics": ["housing"],
        },
        doseq=True,
    ).encode()
    saved = call(app, "POST", "/preferences", f"token={token}", form, client="192.0.2.55")
    assert saved.code == 200 and "Your preferences are saved" in saved.body
    held = record(app)
    assert held is not None and (held.first_name, held.last_name, held.ward) == ("Zoe", "", "Manor")
    assert set(held.tags) == {"casework", "housing"}
    with db(app) as connection:
        last = events(connection, ADDRESS)[-1]
    assert last.kind == "preferences-changed" and last.ip == "192.0.2.55" and last.source == "preferences-page"


def test_bad_preferences_change_nothing(app: WebApp, relay: Server) -> None:
    token = subscribed(app, relay)
    form = urlencode({"action": "save", "first_name": "", "ward": "Nowhere"}).encode()
    answer = call(app, "POST", "/preferences", f"token={token}", form)
    assert answer.code == 400 and "Enter your first name" in answer.body and "Choose a ward" in answer.body
    assert (record(app) or pytest.fail()).first_name == "Zoë" and kinds(app)[-1] == "confirmed"
    assert call(app, "POST", "/preferences", f"token={token}", b"action=delete-everything").code == 400


def test_unsubscribe_from_everything_on_the_preference_page(app: WebApp, relay: Server) -> None:
    token = subscribed(app, relay)
    answer = call(app, "POST", "/preferences", f"token={token}", b"action=unsubscribe")
    assert answer.code == 200 and "You are unsubscribed" in answer.body
    assert (record(app) or pytest.fail()).status == "unsubscribed" and kinds(app)[-1] == "unsubscribed"
    with db(app) as connection:
        assert connection.execute("SELECT reason, source FROM suppressions").fetchall() == [
            ("unsubscribed", "preferences-page")
        ]
    page = call(app, "GET", "/preferences", f"token={token}")
    assert page.code == 200 and "is not on the list" in page.body and "Save my preferences" not in page.body


def test_preference_links_refuse_other_tokens_and_explain_themselves(app: WebApp, relay: Server) -> None:
    token = subscribed(app, relay)
    plain = call(app, "GET", "/preferences")
    assert plain.code == 200 and "at the bottom of any newsletter email" in plain.body
    assert call(app, "POST", "/preferences", "", b"action=unsubscribe").code == 400
    for bad in (make_token(ADDRESS, LIST_ID, SECRET), token[:-2] + "AA", token.replace(".", ".1", 1)):
        answer = call(app, "POST", "/preferences", f"token={quote(bad)}", b"action=unsubscribe")
        assert answer.code == 400
    old = make_link_token(PREFERENCES, ADDRESS, LIST_ID, SECRET, 1_600_000_000)
    assert "expired" in call(app, "GET", "/preferences", f"token={old}").body
    assert (record(app) or pytest.fail()).status == "subscribed"


def test_one_click_unsubscribe_is_a_consent_event_too(app: WebApp, relay: Server) -> None:
    subscribed(app, relay)
    token = make_token(ADDRESS, LIST_ID, SECRET)
    answer = call(app, "POST", "/newsletter/unsubscribe", f"token={token}", b"List-Unsubscribe=One-Click")
    assert answer.code == 200
    assert (record(app) or pytest.fail()).status == "unsubscribed" and kinds(app)[-1] == "unsubscribed"


def test_signing_up_again_after_unsubscribing_needs_the_new_confirmation(app: WebApp, relay: Server) -> None:
    token = subscribed(app, relay)
    call(app, "POST", "/preferences", f"token={token}", b"action=unsubscribe")
    with db(app) as connection:
        subscribers.mark_confirmation_sent(connection, ADDRESS, "2000-01-01T00:00:00+00:00")
    signup(app)
    assert (record(app) or pytest.fail()).status == "pending"
    call(app, "POST", "/subscribe/confirm", f"token={link_in(relay)[1]}")
    assert (record(app) or pytest.fail()).status == "subscribed"
    with db(app) as connection:
        assert connection.execute("SELECT count(*) FROM suppressions").fetchone() == (0,)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSLETTER_CONFIRM_DAYS", "0"),
        ("NEWSLETTER_SIGNUP_PER_IP", "ten"),
        ("NEWSLETTER_PRIVACY_URL", "http://x.org"),
        ("NEWSLETTER_SUBSCRIBE_URL", "https://www.example.org/subscribe?next=x"),
        ("NEWSLETTER_TOPICS", "a,b"),
        ("NEWSLETTER_WARDS", "Manor\nHeatons"),
        ("NEWSLETTER_CONSENT_VERSION", "x" * 41),
    ],
)
def test_a_bad_signup_setting_stops_serve_with_one_line(project: Path, run_cli: Run, name: str, value: str) -> None:
    result = run_cli("serve", "--port", "0", env={**REAL_SETTINGS, name: value}, timeout=30)
    assert result.returncode == 2 and name in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
