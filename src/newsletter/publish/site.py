"""The archive's HTML: the index page, and each issue's web copy with a way back to the index.

Plain HTML and one inline stylesheet, no JavaScript, the newsletter's colours (the office's
look), one column that fits a 375 px phone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from html import unescape
from importlib.resources import files
from types import SimpleNamespace

import jinja2
from markupsafe import escape

from newsletter.content.render import nl2br
from newsletter.errors import RenderError
from newsletter.settings import Settings

FEED = "feed.xml"
INDEX = "index.html"
SITEMAP = "sitemap.xml"

_IMPRINT_STYLE = (
    "max-width:600px;margin:0 auto;padding:12px 16px 28px;text-align:center;font-size:13px;line-height:1.5;"
    "color:#3d4642;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif"
)
# The bar above an archived issue: styled inline, as the email's own markup is.
_NAV = (
    '<nav aria-label="Newsletter archive" style="max-width:600px;margin:0 auto;padding:12px 16px;'
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;"
    'line-height:1.5;color:#1b1f23">'
    '<a href="index.html" style="color:#00573f">All newsletters</a>'
    '<span aria-hidden="true"> &middot; </span>'
    '<a href="feed.xml" style="color:#00573f">Atom feed</a></nav>'
)


@lru_cache(maxsize=1)
def _index_template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["nl2br"] = nl2br
    return env.from_string(files("newsletter.publish").joinpath("index.html").read_text(encoding="utf-8"))


def feed_title(settings: Settings) -> str:
    return f"{settings.representative}: newsletter"


def index_url(settings: Settings) -> str:
    return settings.archive_url.rstrip("/") + "/"


def index_page(settings: Settings, issues: Sequence[object]) -> bytes:
    """The archive's front page; `issues` have slug, subject, preheader, date, date_text."""
    website_text = re.sub(r"^https?://", "", settings.website).strip("/")
    site = SimpleNamespace(
        representative=settings.representative,
        constituency=settings.constituency,
        website=settings.website,
        website_text=website_text,
        postal_address=settings.postal_address,
        index_url=index_url(settings),
        feed_title=feed_title(settings),
        imprint=settings.imprint,
    )
    return _index_template().render(site=site, issues=issues).encode("utf-8")


def issue_page(html: str, settings: Settings, slug: str) -> bytes:
    """The web copy of an issue as the archive serves it: the same HTML, plus a canonical
    address and the feed in its head, and a link back to the index above it."""
    head = (
        f'<link rel="canonical" href="{escape(settings.view_online_url(slug))}">\n'
        f'<link rel="alternate" type="application/atom+xml" title="{escape(feed_title(settings))}" href="{FEED}">\n'
    )
    html, heads = re.subn(r"(</title>\s*)", lambda m: m.group(1) + head, html, count=1)
    html, bodies = re.subn(r"(<body\b[^>]*>)", lambda m: m.group(1) + "\n" + _NAV, html, count=1)
    if not (heads and bodies):
        raise RenderError(f"issues/{slug}.yaml: its template gives no <title> or <body> for the archive page")
    return with_imprint(html, settings.imprint).encode("utf-8")


def with_imprint(html: str, imprint: str) -> str:
    """The page with NEWSLETTER_IMPRINT at its foot if it does not show it already: an issue
    sent before the imprint was set is kept as it was sent (its snapshot), but a page published
    now carries the imprint like every other."""
    if not imprint or " ".join(imprint.split()) in " ".join(unescape(html).split()):
        return html
    line = f'<p style="{_IMPRINT_STYLE}">{escape(imprint)}</p>\n'
    html, found = re.subn(r"(</body>)", lambda m: line + m.group(1), html, count=1, flags=re.I)
    return html if found else html + line
