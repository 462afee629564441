"""`newsletter serve` as run: the per-IP limit behind a reverse proxy (waitress's trusted
proxy handling of X-Forwarded-For), and the routes it prints."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import REAL_SETTINGS
from tests.support.consent_server import serving


def signup(base: str, address: str, forwarded_for: str) -> int:
    form = urlencode({"email": address, "first_name": "Sam", "consent": "yes"}).encode()
    request = urllib.request.Request(f"{base}/subscribe", data=form, headers={"X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(("trusted", "expected"), [("127.0.0.1", [200, 200, 429]), ("", [200, 429, 429])])
def test_the_per_ip_limit_counts_the_client_named_by_a_trusted_proxy(project: Path, trusted: str,
                                                                     expected: list[int]) -> None:
    env = {**REAL_SETTINGS, "NEWSLETTER_SIGNUP_PER_IP": "1", "NEWSLETTER_SERVE_TRUSTED_PROXY": trusted}
    with serving(project, env) as server:
        assert "/subscribe, /preferences, /unsubscribe" in server.banner
        codes = [signup(server.base, f"p{n}@example.org", client)
                 for n, client in enumerate(["203.0.113.1", "203.0.113.2", "203.0.113.1"])]
    assert codes == expected
    written = sorted(p.name for p in (project / "outbox" / "confirmations").glob("*.eml"))
    assert len(written) == expected.count(200)
