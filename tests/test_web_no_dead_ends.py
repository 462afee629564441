"""No dead ends for a constituent: every page of `serve` says how to reach the office (postal
address, phone, email, contact page: settings) and links to the signup form; the unsubscribed
and invalid-link pages offer signing up (again); archive pages carry a web footer (signup,
contact, privacy notice) instead of the email-only lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.audience.tokens import make_token
from newsletter.errors import ConfigError
from newsletter.settings import load_settings
from tests.conftest import REAL_SETTINGS, Run
from tests.support.web import LIST_ID, SECRET, call, web_app

CONTACT = {
    "NEWSLETTER_CONTACT_PHONE": "0161 480 0000",
    "NEWSLETTER_CONTACT_EMAIL": "casework@stockport-office.test",
    "NEWSLETTER_CONTACT_URL": "https://www.stockport-office.test/contact",
}
SIGNUP = 'href="https://www.example.org/subscribe"'


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/subscribe", ""),
        ("GET", "/preferences", ""),
        ("GET", "/newsletter/unsubscribe", "token=garbage"),
        ("GET", "/subscribe/confirm", "token=x.1.y"),
        ("GET", "/nowhere", ""),
        ("POST", "/newsletter/unsubscribe", f"token={make_token('ann@example.org', LIST_ID, SECRET)}"),
    ],
)
def test_every_page_gives_the_offices_contact_details_and_a_signup_link(
    tmp_path: Path, method: str, path: str, query: str
) -> None:
    app = web_app(tmp_path, **CONTACT)
    page = call(app, method, path, query, b"List-Unsubscribe=One-Click" if method == "POST" else b"").body
    assert "Contact the office" in page and "1 Example Street" in page
    assert 'href="tel:01614800000"' in page and 'href="mailto:casework@stockport-office.test"' in page
    assert 'href="https://www.stockport-office.test/contact"' in page
    assert SIGNUP in page


def test_the_unsubscribed_and_invalid_link_pages_offer_signing_up_again(tmp_path: Path) -> None:
    app = web_app(tmp_path)
    token = make_token("ann@example.org", LIST_ID, SECRET)
    done = call(app, "POST", "/newsletter/unsubscribe", f"token={token}", b"List-Unsubscribe=One-Click")
    assert done.code == 200 and f"{SIGNUP}>sign up again</a>" in done.body
    invalid = call(app, "GET", "/preferences", "token=garbage")
    assert invalid.code == 400 and f"{SIGNUP}>Sign up for it here</a>" in invalid.body


def test_without_contact_settings_the_reply_to_address_is_given(tmp_path: Path) -> None:
    page = call(web_app(tmp_path), "GET", "/subscribe").body
    assert 'href="mailto:office@example.org"' in page and "tel:" not in page


def test_a_contact_email_that_is_not_an_address_is_one_line() -> None:
    with pytest.raises(ConfigError, match="NEWSLETTER_CONTACT_EMAIL: 'call us' is not an email address"):
        load_settings({"NEWSLETTER_CONTACT_EMAIL": "call us"})


def test_archive_pages_have_a_web_footer_instead_of_the_email_footer(project: Path, run_cli: Run) -> None:
    env = {**REAL_SETTINGS, **CONTACT}
    built = run_cli("archive", "--include-unsent", "--out", "site", env=env)
    assert built.returncode == 0, built.stderr
    signup = 'href="https://www.stockport-office.test/subscribe"'
    pages = sorted((project / "site").glob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        html = page.read_text()
        assert signup in html and "casework@stockport-office.test" in html, page.name
        assert 'href="https://www.stockport-office.test/privacy"' in html, page.name
        assert "You are receiving this because" not in html and "subject=unsubscribe" not in html, page.name
