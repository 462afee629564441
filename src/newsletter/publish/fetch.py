"""Fetching a feed: a real HTTP client with every limit a tool run from cron needs.

Connect and read timeouts and an overall deadline (a server that trickles bytes forever is
cut off), a size limit counted on the decoded body, a bounded number of redirects, and only
http(s). Each way it can fail becomes one line naming the address: DNS, refused, timeout,
an HTTP error status, too many redirects, too large. A path that is not a URL is read as a file.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsletter import __version__
from newsletter.errors import InputError, NewsletterError

MB = 1024 * 1024
MAX_BYTES = 5 * MB  # a busy WordPress feed with full content is a few hundred KB
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 10.0
TIMEOUT = 30.0
ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"


if TYPE_CHECKING:
    import httpx

# httpx is imported when a feed is fetched, not when the CLI starts: it costs every other
# command about 150 ms of start-up (measured with `python -X importtime`).


class FetchError(NewsletterError):
    """The feed could not be fetched: the network or the server failed (exit code 1)."""


@dataclass(frozen=True)
class Fetched:
    """A feed's bytes and where they came from (the final URL after redirects, or the file)."""

    data: bytes
    location: str
    is_url: bool


def fetch(source: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched:
    """The bytes of a feed given as an http(s) URL or a file path."""
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        return _download(source, timeout=timeout, max_bytes=max_bytes)
    if len(scheme) > 1:  # one letter is a Windows drive (C:\feeds\news.xml)
        raise InputError(f"{source}: only http:// and https:// addresses (or a file) can be imported")
    return _read(Path(source), max_bytes)


def _read(path: Path, max_bytes: int) -> Fetched:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file (give a file or an http(s) address)") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(data) > max_bytes:
        raise InputError(f"{path}: the feed is over the {_size(max_bytes)} limit")
    return Fetched(data, str(path), is_url=False)


def _download(url: str, *, timeout: float, max_bytes: int) -> Fetched:
    import httpx

    limits = httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout))
    headers = {"User-Agent": f"newsletter/{__version__} (feed import)", "Accept": ACCEPT}
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(timeout=limits, follow_redirects=True, max_redirects=MAX_REDIRECTS, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise FetchError(f"{response.url}: HTTP {response.status_code} {response.reason_phrase}".rstrip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                size = f"{int(declared) // 1024} KB"
                raise FetchError(f"{response.url}: the feed is {size}, over the {_size(max_bytes)} limit")
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise FetchError(f"{response.url}: the feed is over the {_size(max_bytes)} limit")
                if time.monotonic() > deadline:
                    raise FetchError(f"{response.url}: the feed took over {timeout:g} s to arrive")
                chunks.append(chunk)
            return Fetched(b"".join(chunks), str(response.url), is_url=True)
    except httpx.HTTPError as exc:
        raise FetchError(_describe(exc, url, timeout)) from exc


def _size(count: int) -> str:
    return f"{count // MB} MB" if count >= MB else f"{count} bytes"


def _describe(exc: httpx.HTTPError, url: str, timeout: float) -> str:
    """One line for what went wrong, from the error and the OS error underneath it."""
    import httpx

    parts = urlsplit(str(exc.request.url) if _has_request(exc) else url)
    host = parts.hostname or url
    where = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"{url}: redirected to an address that is not http(s): {exc}"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"{where}: no connection within {min(CONNECT_TIMEOUT, timeout):g} s (timeout)"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where}: no answer within {timeout:g} s (timeout)"
    cause = _root_cause(exc)
    if isinstance(cause, socket.gaierror):
        return f"{host}: host not found (DNS lookup failed)"
    if isinstance(cause, ConnectionRefusedError):
        return f"{where}: connection refused (is the address right, and the server up?)"
    if isinstance(cause, ssl.SSLError):
        return f"{where}: TLS failed: {cause}"
    return f"{url}: {exc or type(exc).__name__}"


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when the error has no request
    except RuntimeError:
        return False
    return True


def _root_cause(exc: BaseException) -> BaseException:
    """The OS-level error under httpx's and httpcore's wrappers (a bounded walk down the chain)."""
    seen = exc
    for _ in range(20):
        if isinstance(seen, (socket.gaierror, ConnectionRefusedError, ssl.SSLError)):
            return seen
        below = seen.__cause__ or seen.__context__
        if below is None:
            break
        seen = below
    return seen
