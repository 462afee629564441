"""The deployment in deploy/, run: real Caddy (Debian's /usr/bin/caddy) with deploy/Caddyfile on
loopback in front of `newsletter serve` started from deploy/newsletter-serve.service's ExecStart
and Environment, every public path driven through it. The visitor connects from its own loopback
address (127.0.0.7), so what the consent evidence records can only be right if the proxy chain
is: Caddy's X-Forwarded-For names the visitor, a visitor's forged X-Forwarded-For is dropped, and
`serve` reached directly trusts no forwarded header."""

from __future__ import annotations

import configparser
import email
import email.policy
import http.client
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from newsletter.audience.tokens import make_token
from tests.conftest import REAL_SETTINGS, REPO, Run, require
from tests.support.axe import axe_violations, describe
from tests.support.consent_server import Server, serving
from tests.support.db import query

CADDY = Path("/usr/bin/caddy")
DEPLOY = REPO / "deploy"
VISITOR = "127.0.0.7"  # the visitor's own address; Caddy reaches serve from 127.0.0.1
FORGED = "203.0.113.66"


def unit() -> configparser.RawConfigParser:
    parsed = configparser.RawConfigParser(strict=False)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read(DEPLOY / "newsletter-serve.service")
    return parsed


def unit_serve_args() -> tuple[list[str], dict[str, str]]:
    """The arguments after `newsletter serve` in ExecStart (without --port: the test picks one),
    and the settings of its Environment= lines."""
    service = unit()["Service"]
    program, command, *args = shlex.split(service["ExecStart"])
    assert program.endswith("/bin/newsletter") and command == "serve"
    if "--port" in args:
        at = args.index("--port")
        del args[at : at + 2]
    env = dict(item.split("=", 1) for item in shlex.split(service["Environment"]))
    return args, env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    base: str  # Caddy, http://127.0.0.1:PORT
    serve: Server
    project: Path

    def fetch(
        self, path: str, form: dict[str, str] | None = None, *, direct: bool = False, source: str = VISITOR
    ) -> tuple[int, str]:
        """One request from `source` through Caddy (or straight to serve), the visitor sending a
        forged X-Forwarded-For every time; (status, body)."""
        netloc = urlsplit(self.serve.base if direct else self.base).netloc
        host, port = netloc.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
        headers = {"X-Forwarded-For": FORGED}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request("POST" if form is not None else "GET", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8")
        finally:
            connection.close()


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until Caddy accepts connections (bounded: 200 tries), or fail with what it said."""
    for _ in range(200):
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"caddy did not start: {process.communicate(timeout=10)[1].decode()[-2000:]}")


@pytest.fixture
def site(project: Path, run_cli: Run, on_each_backend: Path | str, tmp_path: Path) -> Iterator[Site]:
    require(CADDY.exists(), f"{CADDY} (Debian package caddy)")
    archive = tmp_path / "archive"
    built = run_cli("archive", "--include-unsent", "--out", str(archive), env=REAL_SETTINGS)
    assert built.returncode == 0, built.stderr
    args, unit_env = unit_serve_args()
    with serving(project, {**REAL_SETTINGS, **unit_env}, *args) as server:
        port = free_port()
        home = tmp_path / "caddy-home"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "NEWSLETTER_SITE": f"http://127.0.0.1:{port}",
            "NEWSLETTER_UPSTREAM": urlsplit(server.base).netloc,
            "NEWSLETTER_ARCHIVE_ROOT": str(archive),
            "NEWSLETTER_CADDY_ADMIN": "off",
        }
        command = [str(CADDY), "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"]
        caddy = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, caddy)
            yield Site(f"http://127.0.0.1:{port}", server, project)
        finally:
            caddy.terminate()
            caddy.wait(timeout=30)


def between(page: str, pattern: str) -> str:
    found = re.search(pattern, page)
    assert found, f"{pattern!r} not on the page"
    return found.group(1).replace("&amp;", "&")


def test_every_public_path_through_caddy_records_the_visitors_address(site: Site, on_each_backend: Path | str) -> None:
    address = "nia.okoye@example.org"
    assert site.fetch("/subscribe")[0] == 200
    form = {"email": address, "first_name": "Nia", "consent": "yes"}
    status, page = site.fetch("/subscribe", form)
    assert status == 200 and "Check your inbox" in page

    eml = (site.project / "outbox" / "confirmations" / f"{address}.eml").read_bytes()
    mail = email.message_from_bytes(eml, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    confirm = urlsplit(between(mail, r"(https?://\S+/subscribe/confirm\?token=[\w.=-]+)"))
    link = f"{confirm.path}?{confirm.query}"
    assert site.fetch(link)[0] == 200
    status, page = site.fetch(link, {})
    assert status == 200 and "You are subscribed" in page

    preferences = between(page, r'href="(/preferences\?token=[^"]+)"')
    assert site.fetch(preferences)[0] == 200
    status, page = site.fetch(preferences, {"action": "save", "first_name": "Nia", "topics": "housing"})
    assert status == 200 and "Your preferences are saved" in page

    token = make_token(address, REAL_SETTINGS["NEWSLETTER_LIST_ID"], REAL_SETTINGS["UNSUBSCRIBE_SECRET"])
    assert site.fetch(f"/unsubscribe?token={token}")[0] == 200
    assert site.fetch(f"/unsubscribe?token={token}", {"List-Unsubscribe": "One-Click"})[0] == 200

    status, index = site.fetch("/newsletter/")
    assert status == 200 and "feed.xml" in index
    issue = between(index, r'href="([\w./-]+\.html)"')
    assert site.fetch(f"/newsletter/{issue.lstrip('./')}")[0] == 200
    status, feed = site.fetch("/newsletter/feed.xml")
    assert status == 200 and "<feed" in feed
    assert [site.fetch(path)[0] for path in ("/healthz", "/readyz", "/nowhere")] == [200, 200, 404]

    events = query(on_each_backend, "SELECT kind, ip FROM consent_events WHERE email = ? ORDER BY id", (address,))
    assert len(events) >= 3, events  # signup, confirmation, preferences saved (and the unsubscribe)
    assert {ip for _, ip in events} == {VISITOR}, "the visitor's address, not Caddy's nor the forged one"
    suppressed = query(on_each_backend, "SELECT source FROM suppressions WHERE email = ?", (address,))
    assert suppressed == [("one-click (RFC 8058)",)]
    site.serve.wait_for_log(f"INFO {VISITOR} POST /unsubscribe 200 ")  # logged as the answer leaves: wait, bounded


def test_serve_reached_directly_trusts_no_forwarded_header(site: Site, on_each_backend: Path | str) -> None:
    address = "direct@example.org"
    form = {"email": address, "first_name": "Dee", "consent": "yes"}
    assert site.fetch("/subscribe", form, direct=True, source="127.0.0.9")[0] == 200
    events = query(on_each_backend, "SELECT ip FROM consent_events WHERE email = ?", (address,))
    assert events == [("127.0.0.9",)]


def test_the_unit_file_is_valid_for_systemd(tmp_path: Path) -> None:
    """systemd-analyze verify, with the unit's paths pointed at this checkout's virtualenv."""
    analyze = shutil.which("systemd-analyze")
    require(analyze is not None, "systemd-analyze (Debian package systemd)")
    text = (DEPLOY / "newsletter-serve.service").read_text()
    program = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "newsletter"
    local = text.replace("/srv/newsletter/.venv/bin/newsletter", str(program)).replace("/srv/newsletter", str(tmp_path))
    (tmp_path / "newsletter-serve.service").write_text(local)
    checked = subprocess.run(
        [str(analyze), "verify", str(tmp_path / "newsletter-serve.service")], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr
    service = unit()["Service"]
    assert service["KillSignal"] == "SIGTERM" and int(service["TimeoutStopSec"]) > 20  # serve's grace (web/server.py)


def test_the_nginx_example_proxies_the_same_paths_as_the_caddyfile() -> None:
    caddy, nginx = (DEPLOY / "Caddyfile").read_text(), (DEPLOY / "nginx.conf").read_text()
    assert "handle_path /newsletter/*" in caddy and "location /newsletter/ {" in nginx
    assert "reverse_proxy {$NEWSLETTER_UPSTREAM:127.0.0.1:8080}" in caddy and "location / {" in nginx
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx  # replaces, never appends
    assert "$proxy_add_x_forwarded_for;" not in nginx


@pytest.mark.parametrize("backend", ["sqlite"])  # Chromium is slow; the database steps run on both above
def test_every_page_through_caddy_is_accessible_in_chromium(site: Site, chromium: Any) -> None:
    """axe-core (WCAG 2.1 A/AA) on every page a visitor meets, as Caddy serves it."""
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    seen: list[str] = []

    def accessible(name: str) -> None:
        violations = axe_violations(page)
        assert violations == [], f"{name}:\n{describe(violations)}"
        seen.append(name)

    try:
        page.goto(f"{site.base}/subscribe")
        accessible("signup")
        page.get_by_label("Email address").fill("ola.bello@example.org")
        page.get_by_label("First name").fill("Ola")
        page.locator("#consent").check()
        page.get_by_role("button", name="Sign up").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        accessible("check-inbox")
        eml = (site.project / "outbox" / "confirmations" / "ola.bello@example.org.eml").read_bytes()
        text = email.message_from_bytes(eml, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
        confirm = urlsplit(between(text, r"(https?://\S+/subscribe/confirm\?token=[\w.=-]+)"))
        page.goto(f"{site.base}{confirm.path}?{confirm.query}")
        accessible("confirm")
        page.get_by_role("button", name="Confirm my subscription").click()
        page.get_by_role("heading", name="You are subscribed").wait_for()
        accessible("subscribed")
        page.get_by_role("link", name="manage your preferences").click()
        page.get_by_role("heading", name="Your newsletter preferences").wait_for()
        accessible("preferences")
        token = make_token(
            "ola.bello@example.org", REAL_SETTINGS["NEWSLETTER_LIST_ID"], REAL_SETTINGS["UNSUBSCRIBE_SECRET"]
        )
        page.goto(f"{site.base}/unsubscribe?token={token}")
        accessible("unsubscribe")
        page.get_by_role("button", name="Unsubscribe").click()
        page.get_by_role("heading", name="You are unsubscribed").wait_for()
        accessible("unsubscribed")
        page.goto(f"{site.base}/preferences")
        accessible("lost-link-form")
        page.get_by_label("Email address").fill("ola.bello@example.org")
        page.get_by_role("button", name="Email me my preferences link").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        accessible("lost-link-sent")
        for path, name in (
            ("/unsubscribe?token=garbage", "invalid-link"),
            ("/nowhere", "not-found"),
            ("/newsletter/", "archive"),
        ):
            page.goto(site.base + path)
            accessible(name)
        page.locator("main a[href$='.html']").first.click()
        page.wait_for_load_state()
        accessible("archive-issue")
    finally:
        context.close()
    assert len(seen) == 13
