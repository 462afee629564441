"""SMTP settings from the environment / `.env`: which relays, how securely, how fast.

`SMTP_HOST` (with `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_SECURITY`) names one
relay; `SMTP_URLS` names several (`smtp://user:pass@host:587,smtps://host2:465`), used in
turn. The password is kept out of every `repr`, description and error message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.delivery.pacing import LoopOptions
from newsletter.errors import ConfigError
from newsletter.gates import values

SECURITIES = ("starttls", "tls", "none")
_SCHEMES = {"smtp": "starttls", "smtp+starttls": "starttls", "smtps": "tls", "smtp+insecure": "none"}
_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_MODES = {"starttls": " (STARTTLS)", "tls": " (TLS)", "none": " (no TLS: this machine only)"}
# Every setting `smtp_settings` reads; a key of the SMTP_ family not named here is refused
# (settings.refuse_unknown_settings), so a misspelt SMTP_HOST can never mean "use the outbox".
SETTINGS = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_SECURITY",
    "SMTP_URLS",
    "SMTP_CA_FILE",
    "SMTP_TIMEOUT",
    "SMTP_CONNECTIONS",
    "SMTP_RATE",
    "SMTP_HOURLY_LIMIT",
    "SMTP_MAX_PER_CONNECTION",
    "SMTP_BATCH_SIZE",
    "SMTP_BATCH_PAUSE",
    "SMTP_RETRY_ATTEMPTS",
    "SMTP_RETRY_DELAY",
    "SMTP_RETRY_DEADLINE",
)


@dataclass(frozen=True)
class Relay:
    """One SMTP endpoint. `str()` is `host:port`, the form every message uses."""

    host: str
    port: int
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def where(self) -> str:
        """`host:port (STARTTLS)`: what a person checks before real mail goes out."""
        return f"{self}{_MODES[self.security]}"


@dataclass(frozen=True)
class SmtpSettings:
    """Everything the SMTP backend and the send loop's pacing need."""

    relays: tuple[Relay, ...]
    timeout: float = 30.0
    max_per_connection: int | None = None
    ca_file: Path | None = None
    loop: LoopOptions = field(default_factory=lambda: LoopOptions(connections=4))

    @property
    def connections(self) -> int:
        return self.loop.connections

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.relays)

    def where(self) -> str:
        """Where the mail goes, with each relay's TLS mode, for the first line of every send."""
        if len(self.relays) == 1:
            return f"the relay {self.relays[0].where()}"
        return f"the relays {', '.join(r.where() for r in self.relays)}, in turn"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _number(
    env: Mapping[str, str], name: str, default: float | None, *, integer: bool = False, minimum: float = 0
) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    # The settings gate: ASCII digits only, within the range the setting allows.
    low = None if name in values.RANGES else minimum
    return values.whole_number(name, raw, minimum=low) if integer else values.decimal(name, raw, minimum=low)


def _relay(host: str, port: int, security: str, username: str, password: str, name: str) -> Relay:
    if security not in SECURITIES:
        raise ConfigError(f"{name}: security {security!r} must be one of {', '.join(SECURITIES)}")
    if not host or any(c in host for c in " /@\r\n"):
        raise ConfigError(f"{name}: {host!r} is not a host name")
    if not 0 < port < 65536:
        raise ConfigError(f"{name}: port {port} is out of range")
    if security == "none" and not is_loopback(host):
        raise ConfigError(
            f"{name}: security 'none' is only allowed for a relay on this machine, not {host}:{port}",
            hint="use SMTP_SECURITY=starttls (port 587) or tls (port 465)",
        )
    if password and not username:
        raise ConfigError(f"{name}: a password is set but no user name")
    return Relay(host, port, security, username, password)


def _from_url(url: str) -> Relay:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URLS: an entry is not a valid URL") from None  # the URL may hold a password
    security = _SCHEMES.get(parts.scheme)
    if security is None:
        raise ConfigError(
            f"SMTP_URLS: scheme {parts.scheme!r} is not one of {', '.join(_SCHEMES)}",
            hint="for example SMTP_URLS=smtp://user:pass@host1:587,smtps://host2:465",
        )
    host = parts.hostname or ""
    return _relay(
        host,
        port or _DEFAULT_PORTS[security],
        security,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        "SMTP_URLS",
    )


def smtp_settings(env: Mapping[str, str]) -> SmtpSettings | None:
    """The SMTP settings, or None when no relay is configured (the outbox is used instead)."""
    urls = [u for u in env.get("SMTP_URLS", "").split(",") if u.strip()]
    host = env.get("SMTP_HOST", "").strip()
    if urls:
        relays = tuple(_from_url(u) for u in urls)
    elif host:
        security = env.get("SMTP_SECURITY", "").strip().lower() or "starttls"
        if security not in SECURITIES:
            raise ConfigError(f"SMTP_SECURITY: {security!r} must be one of {', '.join(SECURITIES)}")
        port = int(_number(env, "SMTP_PORT", _DEFAULT_PORTS[security], integer=True, minimum=1) or 0)
        relays = (
            _relay(
                host, port, security, env.get("SMTP_USERNAME", "").strip(), env.get("SMTP_PASSWORD", ""), "SMTP_HOST"
            ),
        )
    else:
        return None
    rate = _number(env, "SMTP_RATE", None)
    hourly = _number(env, "SMTP_HOURLY_LIMIT", None, integer=True, minimum=1)
    per_connection = _number(env, "SMTP_MAX_PER_CONNECTION", None, integer=True, minimum=1)
    ca_file = env.get("SMTP_CA_FILE", "").strip()
    if ca_file and not Path(ca_file).is_file():
        raise ConfigError(f"SMTP_CA_FILE: {ca_file} is not a file")
    return SmtpSettings(
        relays=relays,
        timeout=float(_number(env, "SMTP_TIMEOUT", 30.0, minimum=0.1) or 30.0),
        max_per_connection=int(per_connection) if per_connection else None,
        ca_file=Path(ca_file) if ca_file else None,
        loop=LoopOptions(
            connections=int(_number(env, "SMTP_CONNECTIONS", 4, integer=True, minimum=1) or 4),
            rate=rate or None,
            hourly_limit=int(hourly) if hourly else None,
            batch_size=int(_number(env, "SMTP_BATCH_SIZE", 100, integer=True, minimum=1) or 100),
            batch_pause=float(_number(env, "SMTP_BATCH_PAUSE", 0.0) or 0.0),
            retry_attempts=int(_number(env, "SMTP_RETRY_ATTEMPTS", 5, integer=True, minimum=1) or 5),
            retry_delay=float(_number(env, "SMTP_RETRY_DELAY", 2.0) or 0.0),
            retry_deadline=float(_number(env, "SMTP_RETRY_DEADLINE", 3600.0) or 0.0),
        ),
    )
