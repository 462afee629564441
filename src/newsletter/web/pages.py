"""The pages: one Jinja template per page under `web/templates/`, plain HTML.

Every value is escaped (autoescape, StrictUndefined). The one stylesheet is inline in
`base.html` and the one script (the guarded signup form's proof of work) in `_guard.html`; their
SHA-256 go into the Content-Security-Policy, so a page may use exactly that style and that script
and nothing else (no other scripts, no images, frames or other origins). Every page works
without the script; only the guarded form needs it, and says so.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

import jinja2


@dataclass(frozen=True)
class Site:
    """What every page shows of the office: the newsletter's masthead, and in the footer how to
    reach the office and where to sign up, so no page is a dead end."""

    representative: str
    constituency: str
    website: str
    postal_address: str = ""
    phone: str = ""
    email: str = ""
    contact_url: str = ""
    subscribe_url: str = ""

    @property
    def address_line(self) -> str:
        return ", ".join(line.strip() for line in self.postal_address.splitlines() if line.strip())

    @property
    def phone_uri(self) -> str:
        return "tel:" + re.sub(r"[^0-9+]", "", self.phone)

    @property
    def website_name(self) -> str:
        return self.website.removeprefix("https://").removeprefix("http://").strip("/")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The pages' templates ship inside the package and cannot change while `serve` runs, so
    Jinja is told not to check their files' times on every render (profiled at about a sixth
    of the server's busy time during a burst of unsubscribes)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("newsletter.web", "templates"),
        auto_reload=False,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _digest(template: str, tag: str) -> str:
    """The CSP hash of the text inside `template`'s one <tag> element, as a browser computes it."""
    source = files("newsletter.web").joinpath(f"templates/{template}").read_text(encoding="utf-8")
    found = re.search(f"<{tag}>(.*?)</{tag}>", source, re.S)
    return base64.b64encode(hashlib.sha256((found.group(1) if found else "").encode()).digest()).decode()


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    return (
        f"default-src 'none'; style-src 'sha256-{_digest('base.html', 'style')}'; "
        f"script-src 'sha256-{_digest('_guard.html', 'script')}'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def mask(address: str) -> str:
    """`anne@example.org` -> `an***@example.org`: enough to recognise, not to harvest."""
    local, _, domain = address.rpartition("@")
    shown = local[:2] if len(local) > 3 else local[:1]
    return f"{shown}***@{domain}"


class Pages:
    """Renders the app's pages for one office."""

    def __init__(self, site: Site, privacy_url: str = "", *, banner: str = "") -> None:
        self.site = site
        self.privacy_url = privacy_url
        self.banner = banner  # `serve --dev`: shown at the top of every page
        for name in _environment().list_templates():
            _environment().get_template(name)  # a broken template fails at start-up

    def render(self, template: str, title: str, **context: Any) -> bytes:
        page = (
            _environment()
            .get_template(template)
            .render(title=title, site=self.site, privacy_url=self.privacy_url, banner=self.banner, **context)
        )
        return page.encode("utf-8")

    def message(self, title: str, *paragraphs: str, signup: bool = False) -> bytes:
        """A page of plain paragraphs; `signup` adds a link to the signup form after them."""
        return self.render("message.html", title, paragraphs=paragraphs, signup=signup)

    def invalid_link(self, what: str = "unsubscribe") -> bytes:
        return self.message(
            "This link is not valid",
            f"This {what} link is incomplete or has been changed, so nothing was done.",
            "Use the link from the email exactly as it is, or reply to the newsletter and the office "
            "will do it for you.",
            signup=True,
        )
