"""A send with known outcomes for the report's tests: two issues through a real aiosmtpd relay
(`tests/support/smtpd.py`), relay refusals, bounce mail through `newsletter bounces import`,
and unsubscribes through the CLI and a mail to the unsubscribe address, at known times.

spring-2018 goes to the imported example list; two people are then added; spring-2016 (a ward
edition for Heatons North and Heatons South) goes to everyone with these outcomes:
- zoe.brennan (everyone) and amina.hussain (Heatons) refused with 550: hard bounces;
- lukasz.nowak (everyone) refused with 452 until the retries are used up: deferred;
- DSNs afterwards: a hard one for d.okafor, a soft one for tom.whitworth (both everyone);
- an ARF complaint from helen.taylor (Heatons);
- unsubscribes: margaret.hughes (Heatons) by mail on the day, p.greenhalgh (Heatons) 1 day after,
  siobhan.murphy (everyone) 10 days after, p.shah (everyone) 40 days after (counted nowhere).
"""

from __future__ import annotations

import datetime as dt
import email
from pathlib import Path
from typing import Any

from newsletter.audience.tokens import make_token
from newsletter.store import Location
from tests.conftest import REAL_SETTINGS, Run
from tests.support.bounce_mail import fixture_text, write_mbox
from tests.support.db import query, write
from tests.support.smtpd import Server

MAILTO = "unsubscribe@example.org"
LIST_ID = "Ann Coffey MP's newsletter <newsletter.stockport.example.org>"
# The bounce fixtures were mailed to the example list's unsubscribe address, under its List-Id.
BOUNCE_ENV = {**REAL_SETTINGS, "NEWSLETTER_LIST_ID": LIST_ID, "UNSUBSCRIBE_MAILTO": MAILTO}
ENV = {
    **REAL_SETTINGS,
    "SMTP_HOST": "127.0.0.1",
    "SMTP_SECURITY": "none",
    "SMTP_RETRY_ATTEMPTS": "2",
    "SMTP_RETRY_DELAY": "0",
}
REFUSED = {
    "zoe.brennan@example.org": "550 5.1.1 no such mailbox",
    "amina.hussain@example.com": "550 5.1.1 no such mailbox",
    "lukasz.nowak@example.org": "452 4.2.2 mailbox full",
}
LATER = {"p.greenhalgh@example.org": 1, "siobhan.murphy@example.com": 10, "p.shah@example.com": 40}  # days


def _check(result: Any) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def _started(location: Location, issue: str) -> dt.datetime:
    [(stamp,)] = query(location, "SELECT started_at FROM sends WHERE issue = ? AND kind <> 'test'", (issue,))
    return dt.datetime.fromisoformat(stamp)


def known_send(project: Path, run_cli: Run, location: Location) -> dt.datetime:
    """Run the scenario of the module's docstring; returns when spring-2016's send started."""
    _check(run_cli("subscribers", "import", "subscribers.example.csv", env=ENV))
    with Server() as server:
        env = {**ENV, "SMTP_PORT": str(server.port)}
        _check(run_cli("send", "spring-2018", "--yes", "--allow-missing-images", env=env))
        for n in (1, 2):
            _check(
                run_cli("subscribers", "add", f"new{n}@example.net", "--ward", "Manor", "--consent", "form", env=env)
            )
        first = len(server.handler.received)
        server.handler.refuse.update(REFUSED)
        _check(run_cli("send", "spring-2016", "--yes", "--allow-missing-images", env=env))
        ids = {
            r.recipients[0]: str(email.message_from_bytes(r.data)["Message-ID"])
            for r in server.handler.received[first:]
        }
    token = make_token("margaret.hughes@example.org", LIST_ID, REAL_SETTINGS["UNSUBSCRIBE_SECRET"])
    texts = [
        fixture_text("postfix-hard.eml", message_id=ids["d.okafor@example.com"]),
        fixture_text("gmail-soft.eml", message_id=ids["tom.whitworth@example.org"]),
        fixture_text("arf-complaint.eml", message_id=ids["helen.taylor@example.org"]),
        fixture_text("unsubscribe-mailto.eml", token=token),
    ]
    write_mbox(project / "bounces.mbox", texts)
    _check(run_cli("bounces", "import", "bounces.mbox", env=BOUNCE_ENV))
    _check(run_cli("unsubscribe", *LATER, env=ENV))
    start = _started(location, "spring-2016")
    for address, days in LATER.items():
        at = (start + dt.timedelta(days=days)).isoformat(timespec="milliseconds")
        write(location, "UPDATE consent_events SET at = ? WHERE email = ? AND kind = 'unsubscribed'", (at, address))
        write(location, "UPDATE suppressions SET created_at = ? WHERE email = ?", (at, address))
    return start
