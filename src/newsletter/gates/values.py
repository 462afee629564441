"""The settings gate: every setting is checked when it is loaded, with the range it allows.

Numbers are ASCII digits only: `str.isdigit()` accepts `²` (and `int()` then raises), and
`int()` accepts Arabic-Indic digits and underscores; neither belongs in a setting. URLs and
mailto addresses are parsed and refused if they carry anything but what they are for: no
user name or password, no fragment, no `?bcc=`, nothing that could close the `<...>` of a
List-Unsubscribe entry.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from newsletter.errors import ConfigError

_WHOLE = re.compile(r"[0-9]{1,12}")
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?|\.[0-9]{1,6}")
# RFC 3986 unreserved characters plus what a path and a simple query need.
_URL_CHARS = re.compile(r"[A-Za-z0-9._~:/?&=%+\[\]-]+")
_QUERY_PART = re.compile(r"[A-Za-z0-9._~%+-]*")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAILTO = re.compile(r"[A-Za-z0-9._+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

# The range each numeric setting allows (inclusive); a name not listed gets DEFAULT_RANGE.
RANGES: dict[str, tuple[float, float]] = {
    "SMTP_PORT": (1, 65535),
    "NEWSLETTER_SERVE_PORT": (0, 65535),  # 0 picks a free port
    "SMTP_CONNECTIONS": (1, 1000),
    "SMTP_RETRY_ATTEMPTS": (1, 100),
    "SMTP_TIMEOUT": (0.1, 3600),
    "SMTP_RETRY_DELAY": (0, 3600),
    "SMTP_RETRY_DEADLINE": (0, 7 * 24 * 3600),
    "SMTP_BATCH_PAUSE": (0, 24 * 3600),
    "SMTP_RATE": (0, 100_000),
    "SMTP_HOURLY_LIMIT": (1, 100_000_000),
    "SMTP_BATCH_SIZE": (1, 10_000_000),
    "SMTP_MAX_PER_CONNECTION": (1, 10_000_000),
    "NEWSLETTER_SOFT_BOUNCE_LIMIT": (1, 1000),
}
DEFAULT_RANGE = (0.0, 1_000_000_000.0)


def _range(name: str, minimum: float | None, maximum: float | None) -> tuple[float, float]:
    low, high = RANGES.get(name, DEFAULT_RANGE)
    return (low if minimum is None else minimum, high if maximum is None else maximum)


def _shown(raw: str) -> str:
    return repr(raw[:40] + ("..." if len(raw) > 40 else ""))


def whole_number(name: str, raw: str, *, minimum: float | None = None, maximum: float | None = None) -> int:
    """A whole number of ASCII digits within the setting's range, or one line saying which."""
    low, high = _range(name, minimum, maximum)
    text = raw.strip()
    if not _WHOLE.fullmatch(text):
        raise ConfigError(f"{name}: {_shown(raw)} is not a whole number (digits 0-9 only)")
    value = int(text)
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is out of range ({low:g} to {high:g})")
    return value


def decimal(name: str, raw: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """A number like `2` or `0.5` (ASCII digits, no exponent, no inf or nan) within range."""
    low, high = _range(name, minimum, maximum)
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):
        raise ConfigError(f"{name}: {_shown(raw)} is not a number like 2 or 0.5")
    value = float(text)
    if not low <= value <= high:
        raise ConfigError(f"{name}: {text} is out of range ({low:g} to {high:g})")
    return value


def port(name: str, raw: str) -> int:
    return whole_number(name, raw)


def web_url(name: str, raw: str, *, query: bool = True, reserved_keys: tuple[str, ...] = ()) -> str:
    """An https URL (http only on this machine) with a host and a path, and at most a simple
    `name=value` query: no user name, password, fragment, space, quote or angle bracket."""
    value = raw.strip()
    problem = _url_problem(value, query=query, reserved_keys=reserved_keys)
    if problem:
        raise ConfigError(f"{name}: {_shown(value)} {problem}")
    return value


def _url_problem(value: str, *, query: bool, reserved_keys: tuple[str, ...]) -> str | None:
    if not _URL_CHARS.fullmatch(value):
        return "must be an https:// URL without spaces, quotes, commas or angle brackets"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "is not a valid URL"
    host = parts.hostname or ""
    local = host in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return "must be an https:// URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not carry a user name or password"
    if not host or not (local or (_HOST.fullmatch(host) and "." in host)):
        return "has no valid host name"
    if parts.fragment or "#" in value:
        return "must not carry a #fragment"
    if parts.query or value.endswith("?"):
        if not query:
            return "must not carry a ?query"
        pairs = [pair.split("=", 1) for pair in parts.query.split("&")]
        if any(len(pair) != 2 or not all(_QUERY_PART.fullmatch(p) for p in pair) or not pair[0] for pair in pairs):
            return "has a query that is not simple name=value pairs"
        if any(key in reserved_keys for key, _ in parse_qsl(parts.query)):
            return f"must not set {' or '.join(reserved_keys)} in its query (the tool adds it)"
    return None


def mailto_address(name: str, raw: str) -> str:
    """The address of a mailto: setting, alone: no `?subject=`, `?bcc=`, second address or name."""
    value = raw.strip()
    address = value[len("mailto:") :] if value.lower().startswith("mailto:") else value
    if not _MAILTO.fullmatch(address) or ".." in address:
        raise ConfigError(
            f"{name}: {_shown(value)} must be one plain address like unsubscribe@example.org"
            " (no ?subject=, ?bcc= or second address)"
        )
    return address
