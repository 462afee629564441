"""The settings of signup and the preference centre, read once when `newsletter serve` starts.

Wards and topics are the office's own lists (what the form offers and what a send can target);
the consent statement is versioned text, and the exact wording shown is stored with every
signup. A bad value stops the server at start-up with one line naming the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsletter.errors import ConfigError
from newsletter.gates import values
from newsletter.gates.text import ASCII_CONTROL
from newsletter.settings import Settings, origin

WARDS = (
    "Brinnington and Central; Davenport and Cale Green; Edgeley and Cheadle Heath; Heatons North; "
    "Heatons South; Manor; Reddish North; Reddish South"
)
TOPICS = "schools; housing; events"
CONSENT = (
    "Yes, please email me {representative}'s newsletter about their work for {constituency} "
    "(about once a month). I can unsubscribe at any time with the link in every email."
)

# Every setting of this module, with its default as written in .env.example and the README.
WEB_DEFAULTS: dict[str, str] = {
    "NEWSLETTER_SUBSCRIBE_URL": "",  # empty: UNSUBSCRIBE_URL's origin + /subscribe
    "NEWSLETTER_WARDS": WARDS,
    "NEWSLETTER_TOPICS": TOPICS,
    "NEWSLETTER_CONSENT_STATEMENT": "",  # empty: CONSENT with the representative and constituency
    "NEWSLETTER_CONSENT_VERSION": "1",
    "NEWSLETTER_PRIVACY_URL": "",  # empty: NEWSLETTER_WEBSITE + /privacy
    "NEWSLETTER_CONFIRM_DAYS": "7",
    "NEWSLETTER_PREFERENCES_DAYS": "365",
    "NEWSLETTER_SIGNUP_PER_IP": "10",
    "NEWSLETTER_SIGNUP_RESEND_MINUTES": "60",
    "NEWSLETTER_SIGNUP_MAILS_PER_HOUR": "100",
    "NEWSLETTER_SIGNUP_GUARD_WORK": "50000",
    "NEWSLETTER_WELCOME": "on",
    "NEWSLETTER_SERVE_TRUSTED_PROXY": "",
    "NEWSLETTER_SERVE_REQUEST_LOG": "yes",
}
# Where `newsletter serve` listens when --host/--port are not given (read by cli/serve.py).
SERVE_SETTINGS = ("NEWSLETTER_SERVE_HOST", "NEWSLETTER_SERVE_PORT")
SETTINGS = (*WEB_DEFAULTS, *SERVE_SETTINGS)  # every setting of `newsletter serve`
NAME_LIMIT = 60  # characters of one list item (ward or topic)


@dataclass(frozen=True)
class WebSettings:
    """What the signup form offers, what it records, and its limits."""

    subscribe_url: str
    confirm_url: str
    preferences_url: str
    wards: tuple[str, ...]
    topics: tuple[str, ...]
    consent_statement: str
    consent_version: str
    privacy_url: str
    confirm_seconds: int
    preferences_seconds: int
    signups_per_ip_hour: int
    resend_seconds: int
    trusted_proxy: str
    request_log: bool = True
    mails_per_hour: int = 100  # signup emails an hour before the form is guarded (guard.py)
    guard_work: int = 50_000
    welcome: bool = True

    @property
    def subscribe_path(self) -> str:
        return urlsplit(self.subscribe_url).path.rstrip("/") or "/subscribe"

    @property
    def confirm_path(self) -> str:
        return urlsplit(self.confirm_url).path

    @property
    def preferences_path(self) -> str:
        return urlsplit(self.preferences_url).path.rstrip("/") or "/preferences"


def _value(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, WEB_DEFAULTS[name]).strip()
    if ASCII_CONTROL.search(value):
        raise ConfigError(f"{name}: contains a line break or control character")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(" ".join(item.split()) for item in _value(env, name).split(";") if item.strip()))
    for item in items:
        if len(item) > NAME_LIMIT:
            raise ConfigError(f"{name}: {item[:20]!r}... is longer than {NAME_LIMIT} characters")
    return items


def listed_wards(env: Mapping[str, str]) -> tuple[str, ...]:
    """The wards NEWSLETTER_WARDS lists when the office set it, else none: staff setting a ward
    by hand are held to the office's own list, never to the example default the form offers."""
    return _list(env, "NEWSLETTER_WARDS") if env.get("NEWSLETTER_WARDS", "").strip() else ()


def _whole(env: Mapping[str, str], name: str, minimum: int) -> int:
    return values.whole_number(name, _value(env, name), minimum=minimum, maximum=1_000_000)


def _yes_no(env: Mapping[str, str], name: str) -> bool:
    value = _value(env, name).lower()
    if value not in ("yes", "no", "on", "off"):
        raise ConfigError(f"{name}: {value[:20]!r} must be yes or no (or on or off)")
    return value in ("yes", "on")


def _https(env: Mapping[str, str], name: str, default: str) -> str:
    return values.web_url(name, _value(env, name) or default, query=False).rstrip("/")


def load_web_settings(settings: Settings) -> WebSettings:
    """The signup settings from the same environment as `settings`."""
    env = settings.env
    base = origin(settings.unsubscribe_url)
    subscribe = _https(env, "NEWSLETTER_SUBSCRIBE_URL", base + "/subscribe")
    topics = _list(env, "NEWSLETTER_TOPICS")
    if any(";" in t or "," in t for t in topics):
        raise ConfigError("NEWSLETTER_TOPICS: a topic may not contain ';' or ','")
    statement = _value(env, "NEWSLETTER_CONSENT_STATEMENT") or CONSENT.format(
        representative=settings.representative, constituency=settings.constituency
    )
    version = _value(env, "NEWSLETTER_CONSENT_VERSION")
    if not version or len(version) > 40:
        raise ConfigError(f"NEWSLETTER_CONSENT_VERSION: {version!r} must be a short label such as 2026-11")
    return WebSettings(
        subscribe_url=subscribe,
        confirm_url=subscribe + "/confirm",
        preferences_url=settings.preferences_url.split("?", 1)[0].rstrip("/"),
        wards=_list(env, "NEWSLETTER_WARDS"),
        topics=tuple(t.lower() for t in topics),
        consent_statement=statement,
        consent_version=version,
        privacy_url=_https(env, "NEWSLETTER_PRIVACY_URL", settings.website.rstrip("/") + "/privacy"),
        confirm_seconds=_whole(env, "NEWSLETTER_CONFIRM_DAYS", 1) * 86_400,
        preferences_seconds=_whole(env, "NEWSLETTER_PREFERENCES_DAYS", 1) * 86_400,
        signups_per_ip_hour=_whole(env, "NEWSLETTER_SIGNUP_PER_IP", 1),
        resend_seconds=_whole(env, "NEWSLETTER_SIGNUP_RESEND_MINUTES", 1) * 60,
        trusted_proxy=_value(env, "NEWSLETTER_SERVE_TRUSTED_PROXY"),
        request_log=_yes_no(env, "NEWSLETTER_SERVE_REQUEST_LOG"),
        mails_per_hour=_whole(env, "NEWSLETTER_SIGNUP_MAILS_PER_HOUR", 1),
        guard_work=_whole(env, "NEWSLETTER_SIGNUP_GUARD_WORK", 10),
        welcome=_yes_no(env, "NEWSLETTER_WELCOME"),
    )
