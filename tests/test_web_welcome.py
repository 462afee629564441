"""The welcome email after a confirmed signup: from its own templates, through the same relay
as the confirmation, with the newest sent issue's archive page and the preference link (both
followed and found working); none with NEWSLETTER_WELCOME=off, none for a repeated
confirmation, and a project without the templates is refused at start-up unless it is off."""

from __future__ import annotations

import email
import email.policy
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from newsletter.errors import RenderError
from newsletter.store.journal import Journal
from newsletter.web.app import WebApp
from tests.conftest import REAL_SETTINGS, Run
from tests.support.archive_site import archive_site
from tests.support.smtpd import Server
from tests.support.web import call, over_http, relayed_app, web_app

ADDRESS = "amara.nwosu@example.org"


@pytest.fixture
def relay() -> Iterator[Server]:
    with Server() as server:
        yield server


def text_of(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    return str(message["Subject"]) + "\n" + message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def fetch(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    data = None if form is None else urlencode(form).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as answer:
        return int(answer.status), answer.read().decode("utf-8")


def local(url: str, base: str) -> str:
    """A link from an email, pointed at the test's server."""
    parts = urlsplit(url)
    return f"{base}{parts.path}?{parts.query}"


def sign_up_and_confirm(app: WebApp, relay: Server, base: str) -> None:
    form = {"email": ADDRESS, "first_name": "Amara", "consent": "yes"}
    assert fetch(f"{base}/subscribe", form)[0] == 200
    assert len(relay.handler.received) == 1
    [confirm] = re.findall(r"https://\S+/subscribe/confirm\?token=\S+", text_of(relay.handler.received[0].data))
    status, page = fetch(local(confirm, base), {})
    assert status == 200 and "You are subscribed" in page


def test_a_confirmed_signup_is_welcomed_with_the_latest_issue_and_the_preference_link(
    project: Path, run_cli: Run, relay: Server, tmp_path: Path
) -> None:
    with archive_site(tmp_path / "web") as site:
        env = {"NEWSLETTER_ARCHIVE_URL": site.archive_url, "NEWSLETTER_JOURNAL": str(tmp_path / "list.sqlite3")}
        app = relayed_app(project, relay.port, **env)
        with Journal(app.settings.journal_path) as journal:  # spring-2018 went out to the list
            journal.prepare("spring-2018", ["earlier@example.org"], [])
            journal.mark_sending("spring-2018", "earlier@example.org", "<x@stockport-office.test>")
            journal.settle("spring-2018", "earlier@example.org", "sent", "250 ok")
        built = run_cli("archive", "--out", str(site.folder), env={**REAL_SETTINGS, **env})
        assert built.returncode == 0, built.stderr
        with over_http(app) as base:
            sign_up_and_confirm(app, relay, base)
            assert len(relay.handler.received) == 2, "the welcome follows the confirmation"
            welcome = relay.handler.received[1]
            assert welcome.recipients == (ADDRESS,)
            text = text_of(welcome.data)
            assert text.startswith("Welcome: ") and "Dear constituent," in text
            [latest] = re.findall(r"http://127\.0\.0\.1:\d+/newsletter/\S+\.html", text)
            assert latest == site.archive_url + "spring-2018.html"
            status, issue = fetch(latest)
            assert status == 200 and "<html" in issue
            [preferences] = re.findall(r"https://\S+/preferences\?token=\S+", text)
            status, page = fetch(local(preferences, base))
            assert status == 200 and "Your newsletter preferences" in page and 'value="Amara"' in page
            # Confirming again (the button pressed twice) welcomes nobody twice.
            [confirm] = re.findall(r"https://\S+/subscribe/confirm\?token=\S+", text_of(relay.handler.received[0].data))
            assert fetch(local(confirm, base), {})[0] == 200
        assert len(relay.handler.received) == 2


def test_no_welcome_when_it_is_off(tmp_path: Path, relay: Server) -> None:
    app = relayed_app(tmp_path, relay.port, NEWSLETTER_WELCOME="off")
    with over_http(app) as base:
        sign_up_and_confirm(app, relay, base)
    assert len(relay.handler.received) == 1, "only the confirmation"


def test_before_any_issue_the_welcome_says_the_first_is_on_its_way(tmp_path: Path) -> None:
    app = web_app(tmp_path)
    app.sender.welcome(ADDRESS)
    [written] = (tmp_path / "outbox" / "welcome").iterdir()
    text = text_of(written.read_bytes())
    assert "The first issue is on its way." in text and ".html" not in text
    assert "/preferences?token=" in text
    assert not (tmp_path / "outbox" / "confirmations").exists() or not any(
        (tmp_path / "outbox" / "confirmations").iterdir()
    )


def test_without_its_templates_serve_refuses_to_start_unless_it_is_off(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    from tests.conftest import REPO

    for name in ("confirm.mjml.j2", "confirm.txt.j2"):
        (tmp_path / "templates" / name).write_bytes((REPO / "templates" / name).read_bytes())
    with pytest.raises(RenderError, match=r"welcome\.mjml\.j2: template not found") as refused:
        web_app(tmp_path)
    assert "NEWSLETTER_WELCOME=off" in str(refused.value.hint)
    assert call(web_app(tmp_path, NEWSLETTER_WELCOME="off"), "GET", "/subscribe").code == 200
