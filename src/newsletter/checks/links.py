"""`newsletter check --links`: fetch every link and image of the message with a real HTTP client.

Non-https links and URL shorteners are found without the network, by `preflight.py`; here are the
answers: 4xx/5xx, no answer, redirects to another host, and images over 200 KB.

HEAD first (cheap, no body); GET when the server refuses HEAD (405, 501, and the 403/400 some
servers answer to it). A thread pool bounds how many requests are in flight, and every request
has a connect and read timeout, so a server that never answers costs one timeout, not the run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
import requests

from newsletter.checks.findings import Finding

CONCURRENCY = 8
TIMEOUT = 10.0
MAX_REDIRECTS = 10
IMAGE_WARNING_BYTES = 200 * 1024
HEAD_REFUSED = {400, 403, 405, 501}
SHORTENERS = {
    "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd", "v.gd", "rebrand.ly",
    "cutt.ly", "shorturl.at", "tiny.cc", "lnkd.in", "bit.do", "t.ly", "rb.gy", "s.id", "trib.al", "dlvr.it",
}  # fmt: skip
USER_AGENT = "newsletter-check/1 (link check before sending)"


@dataclass(frozen=True)
class Target:
    url: str
    image: bool = False


@dataclass(frozen=True)
class Outcome:
    """What fetching one URL found: the final status, where it ended, and its size if known."""

    target: Target
    status: int | None = None
    final_url: str = ""
    size: int | None = None
    error: str = ""


def targets(html: str, text: str = "") -> list[Target]:
    """Every http(s) link and image in the HTML part (and URLs written out in the text part), once."""
    root = lxml.html.document_fromstring(html)
    seen: dict[str, Target] = {}
    for image in root.iter("img"):
        src = (image.get("src") or "").strip()
        if src.startswith(("http://", "https://")):
            seen.setdefault(src, Target(src, image=True))
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href.startswith(("http://", "https://")):
            seen.setdefault(href, Target(href))
    for url in re.findall(r"https?://[^\s<>()\"']+", text):
        seen.setdefault(url.rstrip(".,;:"), Target(url.rstrip(".,;:")))
    return list(seen.values())


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_shortener(url: str) -> bool:
    host = _host(url)
    return host in SHORTENERS or host.removeprefix("www.") in SHORTENERS


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        session.max_redirects = MAX_REDIRECTS
        _local.session = session
    return session


def fetch(target: Target, timeout: float = TIMEOUT) -> Outcome:
    """HEAD, then GET when HEAD is refused; redirects followed; the body never read."""
    session = _session()
    try:
        response = session.head(target.url, allow_redirects=True, timeout=(timeout, timeout))
        if response.status_code in HEAD_REFUSED:
            response.close()
            response = session.get(target.url, allow_redirects=True, timeout=(timeout, timeout), stream=True)
        response.close()
    except requests.Timeout:
        return Outcome(target, error=f"no answer within {timeout:g} s")
    except requests.TooManyRedirects:
        return Outcome(target, error=f"more than {MAX_REDIRECTS} redirects")
    except requests.RequestException as exc:
        reason = exc.__class__.__name__
        return Outcome(target, error=f"cannot connect ({reason})")
    length = response.headers.get("Content-Length", "")
    size = int(length) if length.isdigit() else None
    if target.image and size is None and response.ok:
        size = _measure(session, response.url, timeout)
    return Outcome(target, response.status_code, response.url, size)


def _measure(session: requests.Session, url: str, timeout: float) -> int | None:
    """Bytes of an image served without a length, read only up to the warning limit."""
    try:
        with session.get(url, timeout=(timeout, timeout), stream=True) as response:
            total = 0
            for chunk in response.iter_content(16 * 1024):
                total += len(chunk)
                if total > IMAGE_WARNING_BYTES:
                    break
            return total
    except requests.RequestException:
        return None


def check_links(
    found: Iterable[Target],
    *,
    concurrency: int = CONCURRENCY,
    timeout: float = TIMEOUT,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Finding]:
    """Fetch every target, at most `concurrency` at a time; findings in the targets' order."""
    wanted = list(found)
    findings: list[Finding] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="linkcheck") as pool:
        outcomes = list(pool.map(lambda t: _reported(fetch(t, timeout), progress), wanted))
    for outcome in outcomes:
        findings += _findings(outcome)
    return findings


def _reported(outcome: Outcome, progress: Callable[[Outcome], None] | None) -> Outcome:
    if progress is not None:
        progress(outcome)
    return outcome


def _findings(outcome: Outcome) -> list[Finding]:
    url = outcome.target.url[:100]
    kind = "image" if outcome.target.image else "link"
    if outcome.error:
        code = "link-timeout" if outcome.error.startswith("no answer") else "link-broken"
        return [Finding("error", code, f"{kind} {url}: {outcome.error}")]
    found = []
    assert outcome.status is not None
    if outcome.status >= 400:
        found.append(Finding("error", "link-broken", f"{kind} {url} answers {outcome.status}"))
    if _host(outcome.final_url) and _host(outcome.final_url) != _host(outcome.target.url):
        found.append(
            Finding("warning", "link-redirect", f"{kind} {url} redirects to another host: {outcome.final_url[:100]}")
        )
    if outcome.target.image and outcome.size is not None and outcome.size > IMAGE_WARNING_BYTES:
        found.append(
            Finding(
                "warning",
                "image-weight",
                f"image {url} is {outcome.size / 1024:.0f} KB (over "
                f"{IMAGE_WARNING_BYTES // 1024} KB): slow on phones, and some clients skip it",
            )
        )
    return found
