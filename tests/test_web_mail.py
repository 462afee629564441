"""The signup confirmation email: valid MJML by the reference compiler in strict mode, a clean
SpamAssassin score, and both variants (new signup, already subscribed) personalised safely."""

from __future__ import annotations

import email
import email.policy
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from newsletter.content.render import Renderer
from newsletter.settings import load_settings
from newsletter.web.mail import PLACEHOLDERS, VARIANTS, ConfirmationMail
from tests.conftest import REPO, node_available, require
from tests.test_spam_score import spam_report

LINK = "https://www.example.org/subscribe/confirm?token=em9lQGV4YW1wbGUub3Jn.1795431559.o5ZPl0MxIF2cDFb5b9Vt2A"


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> ConfirmationMail:
    return ConfirmationMail(
        load_settings({}),
        REPO / "templates",
        tmp_path_factory.mktemp("outbox"),
        list_name="Ann Coffey MP's newsletter",
        expiry_days=7,
        privacy_url="https://www.example.org/privacy",
    )


def example_site() -> SimpleNamespace:
    settings = load_settings({})
    return SimpleNamespace(
        representative=settings.representative,
        constituency=settings.constituency,
        website=settings.website,
        postal_address=settings.postal_address,
        privacy_url="https://www.example.org/privacy",
    )


def require_mjml() -> None:
    require(node_available(), "node")
    require((REPO / "tests" / "mjml" / "node_modules" / "mjml").is_dir(), "the reference mjml (npm ci in tests/mjml)")


def strict_mjml(source: str) -> None:
    result = subprocess.run(
        ["node", "validate.js"], cwd=REPO / "tests" / "mjml", input=source, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("already", "new_link"), VARIANTS)
def test_the_template_passes_reference_mjml_in_strict_mode(already: bool, new_link: bool) -> None:
    require_mjml()
    site = example_site()
    source = Renderer(REPO / "templates").render_template(
        "confirm.mjml.j2",
        {
            "site": site,
            "list_name": "Ann Coffey MP's newsletter",
            "expiry_days": 7,
            "already_subscribed": already,
            "new_link": new_link,
            "recipient": SimpleNamespace(**PLACEHOLDERS),
        },
        html=True,
    )
    strict_mjml(source)


def test_the_confirmation_scores_zero_with_spamassassin(mail: ConfirmationMail) -> None:
    score, report = spam_report(mail.build("zoe@example.org", "Zoë", LINK, already_subscribed=False).data)
    assert score <= 0.0, report


def test_each_variant_says_why_it_was_sent(mail: ConfirmationMail) -> None:
    texts = {}
    for already, new_link in VARIANTS:
        message = email.message_from_bytes(
            mail.build("zoe@example.org", "Zoë", LINK, already_subscribed=already, new_link=new_link).data,
            policy=email.policy.default,
        )
        texts[message["Subject"].split(":")[0]] = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert set(texts) == {"Please confirm your subscription", "You are already subscribed", "Your new preferences link"}
    assert "asked for a new link to your preferences" in texts["Your new preferences link"]
    assert "asked to sign up" in texts["You are already subscribed"]
    assert "Thank you for signing up" in texts["Please confirm your subscription"]


def test_the_name_and_link_are_escaped_and_every_placeholder_filled(mail: ConfirmationMail) -> None:
    message = email.message_from_bytes(
        mail.build("zoe@example.org", "<b>Zo\r\në</b>", LINK + "&x=<y>", already_subscribed=False).data,
        policy=email.policy.default,
    )
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<b>" not in html and "Zo" not in html and "&amp;x=&lt;y&gt;" in html
    assert "Dear constituent," in text and "Zo" not in text and LINK in text  # never the typed name
    for token in PLACEHOLDERS.values():
        assert token not in html and token not in text
    assert message["To"] == "zoe@example.org" and "Zo" not in str(message["To"])


def test_a_broken_template_stops_at_start_up(tmp_path: Path) -> None:
    from newsletter.errors import RenderError

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "confirm.mjml.j2").write_text("<mjml><mj-body>{{ nothing.here }}</mj-body></mjml>")
    (tmp_path / "templates" / "confirm.txt.j2").write_text("x")
    with pytest.raises(RenderError, match=r"confirm\.mjml\.j2"):
        ConfirmationMail(
            load_settings({}),
            tmp_path / "templates",
            tmp_path / "outbox",
            list_name="x",
            expiry_days=7,
            privacy_url="https://www.example.org/privacy",
        )


@pytest.mark.parametrize("has_latest", [True, False])
def test_the_welcome_template_passes_reference_mjml_in_strict_mode(has_latest: bool) -> None:
    require_mjml()
    site = example_site()
    context = {
        "site": site,
        "list_name": "Ann Coffey MP's newsletter",
        "has_latest": has_latest,
        "recipient": SimpleNamespace(**PLACEHOLDERS),
    }
    source = Renderer(REPO / "templates").render_template("welcome.mjml.j2", context, html=True)
    strict_mjml(source)


def test_the_welcome_scores_zero_with_spamassassin(tmp_path: Path) -> None:
    welcome = ConfirmationMail(
        load_settings({}),
        REPO / "templates",
        tmp_path,
        list_name="Ann Coffey MP's newsletter",
        expiry_days=7,
        privacy_url="https://www.example.org/privacy",
        welcome=True,
    )
    message = welcome.welcome("zoe@example.org", LINK, "https://www.example.org/newsletter/spring-2018.html")
    score, report = spam_report(message.data)
    assert score <= 0.0, report
