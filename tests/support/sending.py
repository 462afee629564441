"""Helpers for the sending tests: a composed issue, an audience, SMTP settings for a test server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from newsletter.audience.csvfile import Audience
from newsletter.audience.people import Subscriber
from newsletter.content.issue import resolve_issue_path
from newsletter.delivery.pacing import LoopOptions
from newsletter.delivery.relays import Relay, SmtpSettings
from newsletter.mail.compose import Composed, compose
from newsletter.settings import load_settings
from newsletter.store import Location
from tests.conftest import REAL_SETTINGS


def composed_issue(project: Path, slug: str = "spring-2018") -> Composed:
    settings = load_settings({**REAL_SETTINGS, "NEWSLETTER_JOURNAL": str(project / "journal.sqlite3")})
    return compose(resolve_issue_path(slug, project), settings)


def addresses(count: int, domain: str = "constituents.test") -> list[str]:
    return [f"reader{i:05d}@{domain}" for i in range(count)]


def audience(emails: list[str]) -> Audience:
    consented = dt.date(2018, 1, 1)
    subscribers = [
        Subscriber(email=e, first_name=f"Reader{i}", consented_at=consented, line=i + 2) for i, e in enumerate(emails)
    ]
    return Audience(Path("list.csv"), subscribers=subscribers, rows=len(subscribers))


def subscriber_csv(path: Path, emails: list[str]) -> Path:
    rows = "".join(f"{e},Reader{i},,Heatons North,newsletter,2018-01-01\n" for i, e in enumerate(emails))
    path.write_text("email,first_name,last_name,ward,tags,consented_at\n" + rows, encoding="utf-8")
    return path


def relay_settings(
    *ports: int, security: str = "none", username: str = "", password: str = "", **options: object
) -> SmtpSettings:
    relays = tuple(Relay("127.0.0.1", port, security, username, password) for port in ports)
    smtp_only = {"timeout", "max_per_connection", "ca_file"}
    values: dict[str, object] = {"timeout": 5.0}
    values.update({k: v for k, v in options.items() if k in smtp_only})
    pacing: dict[str, object] = {"retry_delay": 0.05, "connections": 2}
    pacing.update({k: v for k, v in options.items() if k not in smtp_only})
    return SmtpSettings(relays=relays, loop=LoopOptions(**pacing), **values)  # type: ignore[arg-type]


def database_env(location: Location) -> dict[str, str]:
    """NEWSLETTER_DATABASE for a subprocess that builds its own environment: the test's database,
    a SQLite file or a postgresql:// URL (`on_each_backend`)."""
    return {"NEWSLETTER_DATABASE": str(location)}
