"""Signup to unsubscribe in real Chromium against a running `newsletter serve`, with the
confirmation email caught by a real aiosmtpd on 127.0.0.1, and axe-core (WCAG 2.1 A/AA) run
on every page. Screenshots go to test-artifacts/web/ for a person to look at.

SQLite only: the subject here is the pages in a browser, and Chromium is slow; what the same
steps write to the database is tested on both backends, called directly, in test_web_signup.py,
test_web_fresh_link.py and test_web_unsubscribe.py."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from newsletter.audience.tokens import CONFIRM, PREFERENCES, make_link_token, make_token
from newsletter.store import subscribers
from newsletter.store.consent import Evidence
from newsletter.store.database import connect
from tests.conftest import REAL_SETTINGS, REPO
from tests.support.axe import axe_violations, describe
from tests.support.consent_server import Server, request, serving
from tests.support.db import query
from tests.support.smtpd import Server as Relay

ADDRESS = "siobhan.murphy@example.com"
LIST_ID = REAL_SETTINGS["NEWSLETTER_LIST_ID"]
SHOTS = REPO / "test-artifacts" / "web"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with Relay() as server:
        yield server


@pytest.fixture
def served(project: Path, relay: Relay) -> Iterator[Server]:
    env = {**REAL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(relay.port), "SMTP_SECURITY": "none"}
    with serving(project, env) as server:
        yield server


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1000, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)  # a cap on each wait for a condition, generous for a loaded machine
    yield opened
    context.close()


def accessible(page: Any, name: str) -> None:
    """No WCAG 2.1 A/AA violations on the page as shown; a screenshot for people."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], f"{name}:\n{describe(violations)}"


def database(server: Server) -> Path:
    match = re.search(r"database (\S+?);", server.banner)
    assert match, server.banner
    return Path(match.group(1)) if Path(match.group(1)).is_absolute() else Path.cwd() / match.group(1)


def status_of(server: Server, address: str = ADDRESS) -> tuple[Any, ...] | None:
    rows = query(database(server), "SELECT status, first_name, ward, tags FROM subscribers WHERE email = ?", (address,))
    return rows[0] if rows else None


def local(url: str, server: Server) -> str:
    """A link from an email, pointed at the local server."""
    return str(urlunsplit(urlsplit(url)._replace(scheme="http", netloc=urlsplit(server.base).netloc)))


def emailed_link(relay: Relay, count: int) -> str:
    deadline = time.monotonic() + 60
    while len(relay.handler.received) < count:
        assert time.monotonic() < deadline, "no confirmation email arrived"
        time.sleep(0.05)
    message = email.message_from_bytes(relay.handler.received[count - 1].data, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [url] = re.findall(r"https://\S+\?token=\S+", text)
    return str(url)


def test_signup_confirm_preferences_and_unsubscribe_in_a_browser(served: Server, relay: Relay, page: Any) -> None:
    page.goto(f"{served.base}/subscribe")
    accessible(page, "1-signup-form")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_label("First name").fill("Siobhán")
    page.get_by_label("Last name").fill("Murphy")
    page.get_by_label("Your ward").select_option("Reddish South")
    page.get_by_label("Events").check()
    page.locator("#consent").evaluate("e => e.removeAttribute('required')")  # as a browser without validation
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Please check the form").wait_for()
    assert page.get_by_role("link", name="Tick the box to say you want the newsletter").count() == 1
    assert page.get_by_label("Email address").input_value() == ADDRESS, "what was typed is kept"
    accessible(page, "2-signup-form-with-an-error")
    page.locator("#consent").check()
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    accessible(page, "3-check-your-inbox")

    url = local(emailed_link(relay, 1), served)
    assert relay.handler.recipients() == [ADDRESS]
    status, _, body = request(url)  # what a mail scanner does
    assert status == 200 and "Confirm my subscription" in body
    assert status_of(served) == ("pending", "Siobhán", "Reddish South", "events")

    page.goto(url)
    accessible(page, "4-confirm")
    assert status_of(served) == ("pending", "Siobhán", "Reddish South", "events"), "opening the page confirms nobody"
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    accessible(page, "5-subscribed")
    assert status_of(served) == ("subscribed", "Siobhán", "Reddish South", "events")

    page.get_by_role("link", name="manage your preferences").click()
    page.get_by_role("heading", name="Your newsletter preferences").wait_for()
    accessible(page, "6-preferences")
    assert page.get_by_label("First name").input_value() == "Siobhán"
    page.get_by_label("First name").fill("Shiv")
    page.get_by_label("Your ward").select_option("Reddish North")
    page.get_by_label("Events").uncheck()
    page.get_by_label("Housing").check()
    page.get_by_role("button", name="Save my preferences").click()
    page.get_by_text("Your preferences are saved").wait_for()
    accessible(page, "7-preferences-saved")
    assert status_of(served) == ("subscribed", "Shiv", "Reddish North", "housing")

    page.get_by_label("First name").fill("")
    page.get_by_label("First name").evaluate("e => e.removeAttribute('required')")  # as an old browser would send it
    page.get_by_role("button", name="Save my preferences").click()
    page.get_by_text("Enter your first name").first.wait_for()
    accessible(page, "8-preferences-with-an-error")
    assert status_of(served) == ("subscribed", "Shiv", "Reddish North", "housing")

    page.get_by_role("button", name="Unsubscribe from everything").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    accessible(page, "9-unsubscribed")
    assert status_of(served) == ("unsubscribed", "Shiv", "Reddish North", "housing")


def test_the_unsubscribe_and_error_pages_are_accessible(served: Server, page: Any) -> None:
    token = make_token("d.okafor@example.com", LIST_ID, REAL_SETTINGS["UNSUBSCRIBE_SECRET"])
    page.goto(f"{served.base}/unsubscribe?token={token}")
    accessible(page, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    accessible(page, "unsubscribe-done")
    for path, name in (
        ("/preferences?token=garbage", "invalid-link"),
        ("/preferences", "preferences-no-token"),
        ("/nothing-here", "not-found"),
        ("/subscribe/confirm?token=x.1.y", "invalid-confirmation"),
    ):
        page.goto(served.base + path)
        accessible(page, name)


def test_an_expired_link_gets_a_fresh_one_by_email_in_a_browser(served: Server, relay: Relay, page: Any) -> None:
    """An old issue's preference link and an old confirmation link: each expired page offers a
    button, the new link arrives at the address the old one named, and it works."""
    pending = "t.nowak@example.com"
    db = connect(database(served))  # as after an import and an old signup: nothing mailed lately
    staff = Evidence("staff", "test set-up")
    for address in (ADDRESS, pending):
        subscribers.add_pending(db, address, "Siobhán", "Murphy", "Manor", ["events"], staff)
    subscribers.confirm(db, ADDRESS, staff)
    db.close()
    secret = REAL_SETTINGS["UNSUBSCRIBE_SECRET"]
    old = make_link_token(PREFERENCES, ADDRESS, LIST_ID, secret, 1_600_000_000)

    page.goto(f"{served.base}/preferences?token={old}")
    page.get_by_role("heading", name="This link has expired").wait_for()
    accessible(page, "expired-preferences-link")
    page.get_by_role("button", name="Email me a new link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    accessible(page, "expired-preferences-link-sent")
    fresh = local(emailed_link(relay, 1), served)
    assert relay.handler.recipients() == [ADDRESS] and "/preferences?token=" in fresh
    page.goto(fresh)
    page.get_by_role("heading", name="Your newsletter preferences").wait_for()
    assert page.get_by_label("First name").input_value() == "Siobhán"

    old = make_link_token(CONFIRM, pending, LIST_ID, secret, 1_600_000_000)
    page.goto(f"{served.base}/subscribe/confirm?token={old}")
    accessible(page, "expired-confirmation-link")
    page.get_by_role("button", name="Email me a new confirmation link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.goto(local(emailed_link(relay, 2), served))
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert status_of(served, pending) == ("subscribed", "Siobhán", "Manor", "events")


def test_the_dev_banner_is_accessible_and_visible(project: Path, page: Any) -> None:
    """`serve --dev`: the banner at the top of the page passes axe and is the first thing read."""
    with serving(project, {}, "--dev") as server:
        page.goto(f"{server.base}/subscribe")
        banner = page.get_by_role("note")
        assert banner.is_visible() and banner.inner_text().startswith("Development server with example settings")
        assert banner.bounding_box()["y"] == 0
        accessible(page, "dev-banner")


def test_the_guarded_form_is_solved_and_sent_in_a_browser(project: Path, relay: Relay, chromium: Any) -> None:
    """With the hourly cap reached, the form's own script (allowed by its hash in the page's
    Content-Security-Policy, which this context enforces) solves the challenge while the person
    types; the signup is then mailed. The guarded page is axe-clean."""
    env = {
        **REAL_SETTINGS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(relay.port),
        "SMTP_SECURITY": "none",
        "NEWSLETTER_SIGNUP_MAILS_PER_HOUR": "1",
        "NEWSLETTER_SIGNUP_GUARD_WORK": "3000",
    }
    with serving(project, env) as server:
        form = b"email=first%40example.com&first_name=Ann&consent=yes"
        assert request(f"{server.base}/subscribe", form)[0] == 200  # the cap: one email this hour
        context = chromium.new_context(viewport={"width": 1000, "height": 900})  # the CSP enforced
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{server.base}/subscribe")
            page.get_by_label("Email address").fill(ADDRESS)
            page.get_by_label("First name").fill("Siobhán")
            page.locator("#consent").check()
            page.get_by_role("button", name="Sign up").click()  # before or after the check is done
            page.get_by_role("heading", name="Check your inbox").wait_for()
        finally:
            context.close()
        emailed_link(relay, 2)
        assert relay.handler.recipients()[-1] == ADDRESS
        server.wait_for_log("signup guarded")
        checked = chromium.new_context(bypass_csp=True, viewport={"width": 1000, "height": 900})
        try:
            page = checked.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{server.base}/subscribe")
            page.get_by_text("Check done").wait_for()
            accessible(page, "guarded-signup-form")
        finally:
            checked.close()
