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
from markupsafe import Markup, escape

from newsletter.content.render import nl2br
from newsletter.errors import RenderError
from newsletter.settings import Settings, privacy_page, subscribe_page

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
        footer=Markup(web_footer(settings)),
        index_url=index_url(settings),
        feed_title=feed_title(settings),
        imprint=settings.imprint,
    )
    return _index_template().render(site=site, issues=issues).encode("utf-8")


# The email footer's lines that make no sense on the web: "you are receiving this because your
# address signed up" and the mailto unsubscribe / tokenless preferences links.
_EMAIL_ONLY = re.compile(
    r"<p\b[^>]*>(?:(?!</p>).)*?(?:You are receiving this because|\?subject=unsubscribe)(?:(?!</p>).)*</p>", re.S
)
_WEB_FOOTER = (
    '<footer style="max-width:600px;margin:0 auto;padding:16px;text-align:center;'
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;"
    'line-height:1.5;color:#1b1f23">{}</footer>\n'
)


def web_footer(settings: Settings) -> str:
    """The archive's footer: sign up, contact the office, the privacy notice (no email footer)."""
    link = '<a href="{}" style="color:#00573f">{}</a>'
    contact = [str(escape(line.strip())) for line in settings.postal_address.splitlines() if line.strip()]
    if settings.contact_phone:
        contact.append(
            link.format(escape("tel:" + re.sub(r"[^0-9+]", "", settings.contact_phone)), escape(settings.contact_phone))
        )
    contact.append(link.format(escape("mailto:" + settings.contact_email), escape(settings.contact_email)))
    if settings.contact_url:
        contact.append(link.format(escape(settings.contact_url), "contact page"))
    parts = [
        f"<p>{link.format(escape(subscribe_page(settings)), 'Sign up for the newsletter')}</p>",
        f"<p><strong>Contact the office</strong>: {', '.join(contact)}</p>",
        f"<p>{link.format(escape(privacy_page(settings)), 'How the office uses your information')}</p>",
    ]
    return _WEB_FOOTER.format("".join(parts))


def issue_page(html: str, settings: Settings, slug: str) -> bytes:
    """The web copy of an issue as the archive serves it: the same HTML, plus a canonical
    address and the feed in its head, a link back to the index above it, and the web footer
    (signup, contact, privacy) in place of the email-only lines of the email's footer."""
    head = (
        f'<link rel="canonical" href="{escape(settings.view_online_url(slug))}">\n'
        f'<link rel="alternate" type="application/atom+xml" title="{escape(feed_title(settings))}" href="{FEED}">\n'
    )
    html, heads = re.subn(r"(</title>\s*)", lambda m: m.group(1) + head, html, count=1)
    html, bodies = re.subn(r"(<body\b[^>]*>)", lambda m: m.group(1) + "\n" + _NAV, html, count=1)
    html = _EMAIL_ONLY.sub("", html)
    footer = web_footer(settings)
    html = re.sub(r"(</body>)", lambda m: footer + m.group(1), html, count=1)
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
