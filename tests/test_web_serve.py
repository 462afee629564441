"""`newsletter serve` as run: the per-IP limit behind a reverse proxy (waitress's trusted
proxy handling of X-Forwarded-For), and the routes it prints."""

from __future__ import annotations

import email
import email.policy
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import REAL_SETTINGS, Run
from tests.support.consent_server import request, serving


def signup(base: str, address: str, forwarded_for: str) -> int:
    form = urlencode({"email": address, "first_name": "Sam", "consent": "yes"}).encode()
    request = urllib.request.Request(f"{base}/subscribe", data=form, headers={"X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(("trusted", "expected"), [("127.0.0.1", [200, 200, 429]), ("", [200, 429, 429])])
def test_the_per_ip_limit_counts_the_client_named_by_a_trusted_proxy(
    project: Path, trusted: str, expected: list[int]
) -> None:
    """SQLite only: which client is counted is the subject; the count in PostgreSQL is tested
    in test_web_limits.py."""
    env = {**REAL_SETTINGS, "NEWSLETTER_SIGNUP_PER_IP": "1", "NEWSLETTER_SERVE_TRUSTED_PROXY": trusted}
    with serving(project, env) as server:
        assert "/subscribe, /preferences, /unsubscribe" in server.banner
        codes = [
            signup(server.base, f"p{n}@example.org", client)
            for n, client in enumerate(["203.0.113.1", "203.0.113.2", "203.0.113.1"])
        ]
    assert codes == expected
    written = sorted(p.name for p in (project / "outbox" / "confirmations").glob("*.eml"))
    assert len(written) == expected.count(200)


@pytest.mark.usefixtures("on_each_backend")  # serve and send share the list of record
def test_a_confirmed_signup_gets_the_next_issue_and_its_preference_link_works(project: Path, run_cli: Run) -> None:
    """The whole loop: two signups, one confirmed; `newsletter send` mails only that one, and the
    preference link in its footer opens their page on the running server."""
    env = {**REAL_SETTINGS, "UNSUBSCRIBE_URL": "http://127.0.0.1/unsubscribe"}
    with serving(project, env) as server:
        for address in ("confirmed@example.org", "pending@example.org"):
            assert signup(server.base, address, "203.0.113.9") == 200
        eml = (project / "outbox" / "confirmations" / "confirmed@example.org.eml").read_bytes()
        message = email.message_from_bytes(eml, policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        [link] = re.findall(r"http://127\.0\.0\.1/subscribe/confirm\?token=\S+", text)
        status, _, _ = request(link.replace("http://127.0.0.1", server.base), b"")
        assert status == 200

        sent = run_cli("send", "spring-2018", "--yes", env=env)
        assert sent.returncode == 0, sent.stderr
        outbox = project / "outbox" / "spring-2018"
        assert (outbox / "confirmed@example.org.eml").exists()
        assert not (outbox / "pending@example.org.eml").exists(), "a pending subscriber never receives an issue"
        issue = email.message_from_bytes(
            (outbox / "confirmed@example.org.eml").read_bytes(), policy=email.policy.default
        )
        body = issue.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        [preferences] = re.findall(r"http://127\.0\.0\.1/preferences\?token=\S+", body)
        status, _, page = request(preferences.replace("http://127.0.0.1", server.base))
        assert status == 200 and "co***@example.org" in page and 'value="Sam"' in page
