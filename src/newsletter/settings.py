"""Publication settings from the environment and `.env`, frozen once at start-up.

The example values make every command work on a fresh clone with no `.env` at all; a real
SMTP send refuses to run while the sender or the unsubscribe secret is still an example
(see `Settings.example_values_in_use`).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

from newsletter.errors import ConfigError
from newsletter.gates import election, headers, values
from newsletter.gates.election import ElectionPeriod
from newsletter.gates.headers import HeaderError
from newsletter.gates.text import ASCII_CONTROL

EXAMPLE_SECRET = "example-secret-change-me"
EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")

DEFAULTS: dict[str, str] = {
    "NEWSLETTER_FROM": "Ann Coffey MP <news@example.org>",
    "NEWSLETTER_REPLY_TO": "Office of Ann Coffey MP <office@example.org>",
    "NEWSLETTER_LIST_ID": "Ann Coffey MP's newsletter <newsletter.stockport.example.org>",
    "NEWSLETTER_REPRESENTATIVE": "Ann Coffey MP",
    "NEWSLETTER_CONSTITUENCY": "Stockport",
    "NEWSLETTER_POSTAL_ADDRESS": "Office of Ann Coffey MP\\n1 Example Street\\nStockport SK1 1AA",
    "NEWSLETTER_WEBSITE": "https://www.example.org",
    "NEWSLETTER_ARCHIVE_URL": "https://www.example.org/newsletter/",
    "NEWSLETTER_FOOTER_NOTE": "",
    "NEWSLETTER_CONTACT_PHONE": "",
    "NEWSLETTER_CONTACT_EMAIL": "",  # empty: the address of NEWSLETTER_REPLY_TO
    "NEWSLETTER_CONTACT_URL": "",  # empty: no contact page linked
    "NEWSLETTER_IMPRINT": "",  # the digital imprint (Elections Act 2022), in every message and archive page
    election.DISSOLUTION: "",  # with NEWSLETTER_POLLING_DAY: no send to the list in between (gates/election.py)
    election.POLLING_DAY: "",
    "UNSUBSCRIBE_URL": "https://www.example.org/unsubscribe",
    "UNSUBSCRIBE_MAILTO": "unsubscribe@example.org",
    "UNSUBSCRIBE_SECRET": EXAMPLE_SECRET,
    "UNSUBSCRIBE_PREVIOUS_SECRETS": "",
    "NEWSLETTER_PREFERENCES_URL": "",  # empty: UNSUBSCRIBE_URL's origin + /preferences
    "NEWSLETTER_JOURNAL": ".newsletter/newsletter.sqlite3",
}

SETTINGS = tuple(DEFAULTS)  # the settings this module reads (see `refuse_unknown_settings`)

# A key that starts like one of ours is meant for us: unknown, it is refused rather than ignored.
FAMILIES = ("NEWSLETTER_", "SMTP_", "UNSUBSCRIBE_", "DKIM_")
# Words people write for a setting's own word (SMTP_SERVER for SMTP_HOST): spelling alone would
# suggest SMTP_SECURITY, so the usual other words are looked up first.
_OTHER_WORDS = {
    "SERVER": "HOST",
    "HOSTNAME": "HOST",
    "RELAY": "HOST",
    "SMARTHOST": "HOST",
    "ADDRESS": "HOST",
    "USER": "USERNAME",
    "LOGIN": "USERNAME",
    "PASS": "PASSWORD",
    "PASSWD": "PASSWORD",
    "PWD": "PASSWORD",
    "TLS": "SECURITY",
    "SSL": "SECURITY",
    "STARTTLS": "SECURITY",
    "ENCRYPTION": "SECURITY",
    "URL": "URLS",
    "KEY": "PRIVATE_KEY",
    "DB": "DATABASE",
    "SENDER": "FROM",
}

_HOST = re.compile(r"[A-Za-z0-9.-]+\.[A-Za-z0-9-]+")
MIN_SECRET = 16


def example_domain(value: str) -> str | None:
    """The example domain (RFC 2606) that an address, URL or List-Id points at, if any."""
    for host in _HOST.findall(value.lower()):
        for domain in EXAMPLE_DOMAINS:
            if host == domain or host.endswith("." + domain):
                return domain
        if host.endswith(".example"):
            return "example"
    return None


def read_environment(dotenv_path: Path | None = None) -> dict[str, str]:
    """Merge `.env` (if present) under the process environment; the environment wins.

    `.env` is read without touching `os.environ`, so tests and the preview can reload it.
    """
    path = dotenv_path if dotenv_path is not None else Path(".env")
    merged: dict[str, str] = {}
    if path.is_file():
        try:
            values = dotenv_values(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read settings: {exc}") from exc
        merged.update({k: v for k, v in values.items() if v is not None})
    merged.update(os.environ)
    return merged


def nearest_setting(name: str, known: Collection[str]) -> str | None:
    """The setting `name` was most likely meant to be: the same in capitals, the family's own
    word for it (`SMTP_SERVER` -> `SMTP_HOST`), else the closest spelling, if any is close."""
    upper = name.upper()
    if upper in known:
        return upper
    family = next((f for f in FAMILIES if upper.startswith(f)), "")
    other = _OTHER_WORDS.get(upper.removeprefix(family))
    if other is not None and family + other in known:
        return family + other
    kin = sorted(k for k in known if k.startswith(family)) if family else sorted(known)
    close = difflib.get_close_matches(upper, kin, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_settings(env: Mapping[str, str], known: Collection[str]) -> list[str]:
    """The keys of `env` that look like ours (a family prefix, in any case) but are no setting."""
    return sorted(k for k in env if k.upper().startswith(FAMILIES) and k not in known)


def refuse_unknown_settings(env: Mapping[str, str], known: Collection[str], dotenv_path: Path | None = None) -> None:
    """One line naming every unknown key, where it is and the setting it was probably meant to
    be. Ignoring it would be worse than stopping: `SMTP_SERVER=` instead of `SMTP_HOST=` once
    sent a whole issue to the outbox folder and recorded everybody as sent."""
    unknown = unknown_settings(env, known)
    if not unknown:
        return
    in_file: Collection[str] = ()
    if dotenv_path is not None and dotenv_path.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            in_file = dotenv_values(dotenv_path).keys()
    parts = []
    for key in unknown:
        where = str(dotenv_path) if key in in_file else "the environment"
        nearest = nearest_setting(key, known)
        guess = f"; did you mean {nearest}?" if nearest is not None else ""
        parts.append(f"{key} (in {where}) is not a setting{guess}")
    raise ConfigError(
        "; ".join(parts),
        hint="rename or remove it: a setting the tool does not know is never used (every setting is in .env.example)",
    )


@dataclass(frozen=True)
class Settings:
    """Who the newsletter is from and where its links point."""

    from_header: str
    from_name: str
    from_address: str
    reply_to: str
    list_id: str
    representative: str
    constituency: str
    postal_address: str
    website: str
    archive_url: str
    footer_note: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    unsubscribe_secret: str
    previous_secrets: tuple[str, ...] = ()
    preferences_url: str = "https://www.example.org/preferences"
    journal_path: Path | str = Path(DEFAULTS["NEWSLETTER_JOURNAL"])  # a file, or a postgresql:// URL
    contact_phone: str = ""
    contact_email: str = ""
    contact_url: str = ""
    imprint: str = ""
    election_period: ElectionPeriod | None = None  # NEWSLETTER_DISSOLUTION to NEWSLETTER_POLLING_DAY
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def sender_domain(self) -> str:
        return self.from_address.rpartition("@")[2]

    def example_values_in_use(self) -> list[str]:
        """Every outward-facing setting that still holds an example value, each with the reason
        (a real send refuses to go out while any is left: its links would lead nowhere)."""
        found = []
        for name, value in (
            ("NEWSLETTER_FROM", self.from_address),
            ("NEWSLETTER_REPLY_TO", self.reply_to),
            ("NEWSLETTER_LIST_ID", self.list_id),
            ("UNSUBSCRIBE_URL", self.unsubscribe_url),
            ("UNSUBSCRIBE_MAILTO", self.unsubscribe_mailto),
            ("NEWSLETTER_WEBSITE", self.website),
            ("NEWSLETTER_ARCHIVE_URL", self.archive_url),
        ):
            domain = example_domain(value)
            if domain:
                found.append(f"{name} points at the example domain {domain}")
        if self.postal_address == _text(DEFAULTS, "NEWSLETTER_POSTAL_ADDRESS", multiline=True):
            found.append("NEWSLETTER_POSTAL_ADDRESS is the example address")
        if self.unsubscribe_secret == EXAMPLE_SECRET:
            found.append("UNSUBSCRIBE_SECRET is the example value")
        elif len(self.unsubscribe_secret) < MIN_SECRET:
            found.append(
                f"UNSUBSCRIBE_SECRET is too short ({len(self.unsubscribe_secret)} characters; at least {MIN_SECRET})"
            )
        return found

    def view_online_url(self, issue_slug: str) -> str:
        return f"{self.archive_url.rstrip('/')}/{issue_slug}.html"


def _text(env: Mapping[str, str], name: str, *, multiline: bool = False) -> str:
    value = env.get(name, DEFAULTS[name]).strip()
    if multiline:
        value = value.replace("\\n", "\n")
        lines = [line.strip() for line in value.splitlines()]
        if any(ASCII_CONTROL.search(line) for line in lines):
            raise ConfigError(f"{name}: contains control characters")
        return "\n".join(line for line in lines if line)
    if ASCII_CONTROL.search(value):
        raise ConfigError(f"{name}: contains a line break or control character")
    return value


def _mailbox(env: Mapping[str, str], name: str) -> tuple[str, str]:
    """One address, parsed by the header gate (encoded words that decode to CR/LF refused)."""
    try:
        found = headers.mailbox(_text(env, name), name)
    except HeaderError as exc:
        raise ConfigError(str(exc)) from None
    return found.display_name, found.addr_spec


def _url(env: Mapping[str, str], name: str, **rules: Any) -> str:
    return values.web_url(name, _text(env, name), **rules)


def subscribe_page(settings: Settings) -> str:
    """The signup form's address: NEWSLETTER_SUBSCRIBE_URL, else UNSUBSCRIBE_URL's origin + /subscribe
    (read here too because the archive links to it; `web.config` checks the setting)."""
    given = settings.env.get("NEWSLETTER_SUBSCRIBE_URL", "").strip()
    return (given or origin(settings.unsubscribe_url) + "/subscribe").rstrip("/")


def privacy_page(settings: Settings) -> str:
    """The privacy notice: NEWSLETTER_PRIVACY_URL, else NEWSLETTER_WEBSITE + /privacy."""
    given = settings.env.get("NEWSLETTER_PRIVACY_URL", "").strip()
    return (given or settings.website.rstrip("/") + "/privacy").rstrip("/")


def origin(url: str) -> str:
    """`https://www.example.org/a/b?c` -> `https://www.example.org`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_database_url(value: str) -> bool:
    """NEWSLETTER_DATABASE names a PostgreSQL server (a URL) rather than a SQLite file."""
    return value.startswith(("postgresql:", "postgres:", "postgresql+"))


def database_location(value: str, field: str = "NEWSLETTER_DATABASE") -> Path | str:
    """What a database setting or option names: a postgresql:// URL (kept as text) or a SQLite
    file. Any other `scheme://` is refused out loud: `mysql://...` taken as a file name would
    quietly start a second, empty list in a folder called `mysql:`."""
    if is_database_url(value):
        return value
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value):
        scheme = value.split(":", 1)[0]
        raise ConfigError(
            f"{field}: {scheme}:// is not a database this tool reads; give a postgresql:// URL or a file path"
        )
    return Path(value)


def _database(value: str) -> Path | str:
    return database_location(value, "NEWSLETTER_JOURNAL")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from a mapping (default: `.env` merged under the process environment)."""
    env = read_environment() if env is None else env
    from_name, from_address = _mailbox(env, "NEWSLETTER_FROM")
    reply_address = _mailbox(env, "NEWSLETTER_REPLY_TO")[1]
    mailto = values.mailto_address("UNSUBSCRIBE_MAILTO", _text(env, "UNSUBSCRIBE_MAILTO"))
    secret = _text(env, "UNSUBSCRIBE_SECRET")
    if not secret:
        raise ConfigError("UNSUBSCRIBE_SECRET: must not be empty")
    previous = tuple(s.strip() for s in _text(env, "UNSUBSCRIBE_PREVIOUS_SECRETS").split(",") if s.strip())
    list_id = _text(env, "NEWSLETTER_LIST_ID")
    if not re.search(r"<[A-Za-z0-9.-]+\.[A-Za-z0-9-]+>$", list_id):
        raise ConfigError(f"NEWSLETTER_LIST_ID: {list_id[:80]!r} must end with <id.domain> (RFC 2919)")
    try:
        headers.header_value("List-Id", list_id, "NEWSLETTER_LIST_ID")
    except HeaderError as exc:
        raise ConfigError(str(exc)) from None
    unsubscribe_url = _url(env, "UNSUBSCRIBE_URL", reserved_keys=("token",))
    preferences_url = (
        _url(env, "NEWSLETTER_PREFERENCES_URL", reserved_keys=("token",))
        if _text(env, "NEWSLETTER_PREFERENCES_URL")
        else origin(unsubscribe_url) + "/preferences"
    )
    return Settings(
        from_header=_text(env, "NEWSLETTER_FROM"),
        from_name=from_name or _text(env, "NEWSLETTER_REPRESENTATIVE"),
        from_address=from_address,
        reply_to=_text(env, "NEWSLETTER_REPLY_TO"),
        list_id=list_id,
        representative=_text(env, "NEWSLETTER_REPRESENTATIVE"),
        constituency=_text(env, "NEWSLETTER_CONSTITUENCY"),
        postal_address=_text(env, "NEWSLETTER_POSTAL_ADDRESS", multiline=True),
        website=_url(env, "NEWSLETTER_WEBSITE"),
        archive_url=_url(env, "NEWSLETTER_ARCHIVE_URL"),
        footer_note=_text(env, "NEWSLETTER_FOOTER_NOTE"),
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=mailto,
        unsubscribe_secret=secret,
        previous_secrets=previous,
        preferences_url=preferences_url,
        journal_path=_database(_text(env, "NEWSLETTER_JOURNAL")),
        contact_phone=_text(env, "NEWSLETTER_CONTACT_PHONE")[:40],
        contact_email=_contact_email(env, reply_address),
        contact_url=_url(env, "NEWSLETTER_CONTACT_URL") if _text(env, "NEWSLETTER_CONTACT_URL") else "",
        imprint=_text(env, "NEWSLETTER_IMPRINT"),
        election_period=election.election_period(env),
        env=dict(env),
    )


def _contact_email(env: Mapping[str, str], reply_address: str) -> str:
    """The address the pages give for writing to the office (NEWSLETTER_REPLY_TO's by default)."""
    given = _text(env, "NEWSLETTER_CONTACT_EMAIL")
    if not given:
        return reply_address
    try:
        found = headers.mailbox(given, "NEWSLETTER_CONTACT_EMAIL").addr_spec
    except HeaderError:
        found = ""
    if "@" not in found or found != given:
        raise ConfigError(f"NEWSLETTER_CONTACT_EMAIL: {given[:80]!r} is not an email address")
    return found
