"""Two `newsletter serve` processes behind one proxy, on one database, behave as one.

The per-client signup limit, the per-address resend period and the claim on an address whose
confirmation is being sent right now all live in the database, so a second process sees what
the first did. The decisive case: a confirmation held up at the relay while the same address
signs up again through the other process gets one email, not two (before, each process kept
its claims in its own memory). Real `serve` processes and a real aiosmtpd relay, on SQLite and
on a real PostgreSQL server.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from newsletter.web.app import WebApp
from tests.conftest import REAL_SETTINGS
from tests.support.consent_server import serving
from tests.support.smtpd import PATIENCE, HeldReplies, Server, wait_for
from tests.support.web import call, web_app

ADDRESS = "zoe.brennan@example.org"


def signup(base: str, address: str = ADDRESS, client: str = "203.0.113.5") -> int:
    form = urlencode({"email": address, "first_name": "Zoë", "consent": "yes"}).encode()
    request = urllib.request.Request(f"{base}/subscribe", data=form, headers={"X-Forwarded-For": client})
    try:
        with urllib.request.urlopen(request, timeout=PATIENCE * 2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_two_serve_processes_send_one_confirmation_for_one_address(project: Path, on_each_backend: Path | str) -> None:
    handler = HeldReplies({ADDRESS})
    with Server() as relay:
        relay.handler = handler
        env = {
            **REAL_SETTINGS,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(relay.port),
            "SMTP_SECURITY": "none",
            "NEWSLETTER_SERVE_TRUSTED_PROXY": "127.0.0.1",
        }
        if isinstance(on_each_backend, str):
            env["NEWSLETTER_DATABASE"] = on_each_backend
        with serving(project, env) as first, serving(project, env) as second:
            answers: list[int] = []
            held = threading.Thread(target=lambda: answers.append(signup(first.base)))
            held.start()
            try:
                # The first process's confirmation is at the relay, its reply held back: it is
                # being sent right now. The same address signs up again through the other one.
                wait_for(handler.arrived.is_set, "the first confirmation reached the relay")
                again = signup(second.base, client="203.0.113.6")
            finally:
                handler.release.set()
                held.join(PATIENCE * 2)
            later = signup(second.base, client="203.0.113.7")  # within the resend period, on the other process
    assert answers == [200] and again == 200 and later == 200, "the same answer every time"
    assert Counter(handler.recipients()) == {ADDRESS: 1}, "one confirmation for one address"


def two_apps(root: Path, database: Path | str, **env: str) -> tuple[WebApp, WebApp]:
    """Two apps in their own project folders (their own outboxes), on one database."""
    settings = {"NEWSLETTER_JOURNAL": str(database), **env}
    return web_app(root / "a", **settings), web_app(root / "b", **settings)


def form(address: str) -> bytes:
    return urlencode({"email": address, "first_name": "Sam", "consent": "yes"}).encode()


def test_the_per_client_limit_counts_across_processes(tmp_path: Path, database: Path | str) -> None:
    first, second = two_apps(tmp_path, database, NEWSLETTER_SIGNUP_PER_IP="2")
    codes = [
        call(app, "POST", "/subscribe", body=form(f"p{n}@example.org"), client="203.0.113.1").code
        for n, app in enumerate([first, second, first, second])
    ]
    assert codes == [200, 200, 429, 429]
    assert call(second, "POST", "/subscribe", body=form("q@example.org"), client="203.0.113.2").code == 200


def test_the_resend_period_holds_across_processes(tmp_path: Path, database: Path | str) -> None:
    first, second = two_apps(tmp_path, database)
    for app in (first, second, first):
        assert call(app, "POST", "/subscribe", body=form(ADDRESS)).code == 200
    written = [
        *(tmp_path / "a").glob("outbox/confirmations/*.eml"),
        *(tmp_path / "b").glob("outbox/confirmations/*.eml"),
    ]
    assert len(written) == 1
