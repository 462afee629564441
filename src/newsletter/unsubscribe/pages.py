"""The endpoint's pages: plain HTML, no JavaScript, every value escaped, one inline stylesheet.

The stylesheet's SHA-256 goes into the Content-Security-Policy, so the page may use exactly
that style and nothing else (no scripts, images, frames or other origins).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from html import escape
from importlib.resources import files
from string import Template


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template(files("newsletter.unsubscribe").joinpath("page.html").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    style = re.search(r"<style>(.*?)</style>", _template().template, re.S)
    digest = base64.b64encode(hashlib.sha256((style.group(1) if style else "").encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def mask(address: str) -> str:
    """`anne@example.org` -> `an***@example.org`: enough to recognise, not to harvest."""
    local, _, domain = address.rpartition("@")
    shown = local[:2] if len(local) > 3 else local[:1]
    return f"{shown}***@{domain}"


def page(title: str, body_html: str) -> bytes:
    return _template().substitute(title=escape(title), body=body_html).encode("utf-8")


def confirm(address: str, list_name: str, token: str) -> bytes:
    """The GET page: who, which list, and a button that POSTs (link scanners only GET)."""
    return page(
        "Unsubscribe",
        f"<p>Stop sending <strong>{escape(list_name)}</strong> to "
        f'<span class="address">{escape(mask(address))}</span>?</p>\n'
        f'<form method="post" action="?token={escape(token)}">\n'
        f'<input type="hidden" name="token" value="{escape(token)}">\n'
        '<button type="submit" name="confirm" value="yes">Unsubscribe</button>\n'
        "</form>",
    )


def done(address: str, list_name: str) -> bytes:
    return page(
        "You are unsubscribed",
        f'<p><span class="address">{escape(mask(address))}</span> will get no more '
        f"<strong>{escape(list_name)}</strong> emails.</p>\n"
        "<p>If this was a mistake, contact the office and we will add you back.</p>",
    )


def invalid() -> bytes:
    return page(
        "This link is not valid",
        "<p>This unsubscribe link is incomplete or has been changed, so nothing was done.</p>\n"
        "<p>Use the link from the bottom of the newsletter exactly as it is, or reply to the "
        "newsletter asking to unsubscribe.</p>",
    )


def error(title: str, text: str) -> bytes:
    return page(title, f"<p>{escape(text)}</p>")
