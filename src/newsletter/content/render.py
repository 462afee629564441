"""Issue -> RenderedIssue: Jinja2 -> MJML -> HTML -> premailer, and the text template. Once per issue.

Per-recipient values (greeting, address, unsubscribe and preference links) are rendered as placeholder tokens
made of letters, digits and underscores: they pass through Jinja's escaping, MJML, premailer and
quoted-printable unchanged, so `message.py` can splice the real values in per recipient cheaply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import jinja2
import premailer
from markupsafe import Markup, escape

from mjml import mjml2html
from newsletter.content import flowed, images, prose
from newsletter.content.articles import Article
from newsletter.content.issue import Issue
from newsletter.errors import NewsletterError, RenderError
from newsletter.settings import Settings

# Order matters nowhere; names are what templates see as `recipient.<name>`.
PLACEHOLDERS = {
    "greeting": "NLPHxGREETINGx7Q",
    "email": "NLPHxEMAILx7Q",
    "unsubscribe_url": "NLPHxUNSUBSCRIBEx7Q",
    "preferences_url": "NLPHxPREFERENCESx7Q",
}
PLACEHOLDER_RE = re.compile("|".join(PLACEHOLDERS.values()))
DOCTYPE = "<!doctype html>"
# After the hidden preheader: invisible, zero-width-ish characters so inbox previews stop at the
# preheader instead of running on into "View in your browser" (combining grapheme joiner, ZWNJ, NBSP).
PREHEADER_FILLER = Markup("&#847;&zwnj;&nbsp;" * 60)


@dataclass(frozen=True)
class RenderedIssue:
    """The issue as every recipient gets it, with placeholders where they differ."""

    issue: Issue
    subject: str
    html: str
    text: str
    images: tuple[images.EmailImage, ...] = ()  # the project's pictures it shows, each once

    def personalise(self, values: dict[str, str]) -> tuple[str, str]:
        """Substitute recipient values (HTML-escaped for the HTML part). For previews and tests;
        the sending path uses the pre-encoded splice in `message.py` instead."""
        html = PLACEHOLDER_RE.sub(lambda m: str(escape(values[_name(m.group())])), self.html)
        text = PLACEHOLDER_RE.sub(lambda m: values[_name(m.group())], self.text)
        return html, text


def _name(token: str) -> str:
    return next(name for name, value in PLACEHOLDERS.items() if value == token)


def nl2br(value: str) -> Markup:
    """Escape each line and join them with <br> (postal addresses)."""
    return Markup("<br>").join(escape(line) for line in str(value).splitlines())


def host(url: str) -> str:
    """The host a link goes to, without `www.`, for link text that says where it goes."""
    name = urlsplit(str(url)).hostname or str(url)
    return name.removeprefix("www.")


def _wrap(value: str, width: int = prose.WIDTH) -> str:
    return prose.wrap(str(value), width)


def _environment(templates: Path, *, autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters["nl2br"] = nl2br
    env.filters["wrap"] = _wrap
    env.filters["host"] = host
    return env


class Renderer:
    """Renders issues from one templates folder; keeps the compiled Jinja templates."""

    def __init__(self, templates: Path) -> None:
        self.templates = templates
        self._html_env = _environment(templates, autoescape=True)
        self._text_env = _environment(templates, autoescape=False)
        # (source, its mtime and size, slot) -> the picture made for it: a renderer kept between
        # rebuilds (the preview's) neither reads nor hashes an unchanged picture again.
        self._pictures: dict[tuple[Path, int, int, int], images.EmailImage] = {}

    def render(self, issue: Issue, settings: Settings, web_name: str | None = None) -> RenderedIssue:
        """Render the issue; `web_name` names its web copy (a ward edition's `<issue>.<key>`)."""
        used: dict[str, images.EmailImage] = {}
        context = _context(issue, settings, web_name, self._picture_function(issue, settings, used))
        mjml_source = self._template(self._html_env, f"{issue.template}.mjml.j2", context)
        html = compile_mjml(mjml_source, self.templates / f"{issue.template}.mjml.j2")
        text = self._template(self._text_env, f"{issue.template}.txt.j2", context)
        text = flowed.finish(text)
        if settings.imprint:
            self._imprint_printed(settings.imprint, html, text, issue.template)
        return RenderedIssue(issue=issue, subject=issue.subject, html=html, text=text, images=tuple(used.values()))

    def _imprint_printed(self, imprint: str, html: str, text: str, template: str) -> None:
        """NEWSLETTER_IMPRINT must be in both parts of every message. A project's own templates
        (copied by `init` before the imprint existed, or edited since) may not print
        `site.imprint`: such a message is refused, not sent without the line the law asks for."""
        wanted = " ".join(imprint.split())
        for part, body, name in (("HTML", unescape(html), "mjml"), ("plain text", text, "txt")):
            if wanted not in " ".join(body.split()):
                raise RenderError(
                    f"{self.templates / f'{template}.{name}.j2'}: NEWSLETTER_IMPRINT is set but the {part} part "
                    "does not show it",
                    hint="print {{ site.imprint }} in the footer (see templates/partials/footer.mjml.j2 and "
                    "newsletter.txt.j2 of the example project)",
                )

    def render_mjml(self, issue: Issue, settings: Settings) -> str:
        """The MJML source before compilation (for the reference validator)."""
        picture = self._picture_function(issue, settings, {})
        return self._template(self._html_env, f"{issue.template}.mjml.j2", _context(issue, settings, None, picture))

    def _picture_function(
        self, issue: Issue, settings: Settings, used: dict[str, images.EmailImage]
    ) -> Callable[[Article, int], Picture]:
        """`picture(article, slot)` for the templates: where the article's picture is and the
        size to show it at in a slot `slot` CSS pixels wide. A URL is used as it is; a file in
        the project is made for email (images.py) and addressed under the archive's URL."""
        cache = images.cache_dir(issue.project.root)

        def picture(article: Article, slot: int) -> Picture:
            if article.image_file is None:
                return Picture(article.image or "", int(slot), None)
            made = self._made(article, int(slot), cache)
            used.setdefault(made.name, made)
            return Picture(made.url(settings.archive_url), made.slot, made.shown_height)

        return picture

    def _made(self, article: Article, slot: int, cache: Path) -> images.EmailImage:
        source = article.image_file
        assert source is not None
        try:
            stat = source.stat()
        except OSError as exc:
            raise RenderError(f"{article.image_at}: cannot read {source}: {exc.strerror}") from exc
        key = (source.resolve(), stat.st_mtime_ns, stat.st_size, slot)
        made = self._pictures.get(key)
        if made is None:
            made = self._pictures[key] = images.prepare(source, slot, cache, article.image_at)
        return made

    def render_template(self, name: str, context: dict[str, object], *, html: bool) -> str:
        """Any other template of this folder, with the same filters and errors (the signup
        confirmation email is rendered through this)."""
        return self._template(self._html_env if html else self._text_env, name, context)

    def _template(self, env: jinja2.Environment, name: str, context: dict[str, object]) -> str:
        try:
            return env.get_template(name).render(context)
        except NewsletterError:  # a picture that cannot be made names its article, not the template
            raise
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"{self.templates / str(exc.name)}: template not found") from exc
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or str(self.templates / name)
            raise RenderError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from exc
        except jinja2.UndefinedError as exc:
            raise RenderError(f"{self.templates / name}:{_template_line(exc)}: {exc.message}") from exc
        except (RecursionError, MemoryError) as exc:  # a macro that calls itself forever
            where = _template_where(exc, self.templates / name)
            raise RenderError(
                f"{where}: the template recursed too deeply (a macro or include calling itself?)"
            ) from None
        except Exception as exc:  # anything else a template does at render time (1/0, a bad filter argument)
            where = _template_where(exc, self.templates / name)
            detail = " ".join(str(exc).split())[:200]
            raise RenderError(f"{where}: template failed while rendering: {type(exc).__name__}: {detail}") from None


def _template_where(exc: BaseException, fallback: Path) -> str:
    """`file:line` of the innermost frame Jinja attributes to a template (which may be an
    included or imported one), or the template that was rendered."""
    found = f"{fallback}"
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _template_line(exc: BaseException) -> int:
    """The template line of the innermost frame Jinja attributes to a template file."""
    line = 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def compile_mjml(source: str, origin: Path) -> str:
    """MJML -> HTML -> inlined CSS, with settings that keep responsive rules working.

    mjml-python does not validate, so a `<mj-` tag left in the output is an error here.
    premailer drops the lowercase doctype mjml writes, so it is put back.
    """
    try:
        html = mjml2html(source, disable_comments=True, fonts={})
    except (ValueError, RuntimeError) as exc:
        raise RenderError(f"{origin}: MJML could not be compiled: {exc}") from exc
    leftover = re.search(r"<mj-[a-z-]+", html)
    if leftover:
        raise RenderError(f"{origin}: unknown or misplaced MJML tag {leftover.group()}> left in the output")
    inliner = premailer.Premailer(
        html,
        keep_style_tags=True,
        strip_important=False,
        remove_classes=False,
        allow_network=False,
        disable_link_rewrites=True,
        disable_validation=True,
        # Keep MJML's pixel width/height on images: premailer would copy the inlined CSS `width:100%`
        # over them, and Outlook for Windows then sizes the image from the file's own pixels.
        disable_basic_attributes=["width", "height"],
        cssutils_logging_level=logging.CRITICAL,
    )
    inlined = str(inliner.transform())
    if not inlined.lower().startswith("<!doctype"):
        inlined = DOCTYPE + "\n" + inlined
    return inlined


@dataclass(frozen=True)
class Picture:
    """What a template writes for an article's picture: `src`, and its `width` and `height` in
    CSS pixels (height None for a URL, whose pixels are unknown: MJML then writes `auto`)."""

    src: str
    width: int
    height: int | None


def _context(
    issue: Issue,
    settings: Settings,
    web_name: str | None = None,
    picture: Callable[[Article, int], Picture] | None = None,
) -> dict[str, object]:
    site = SimpleNamespace(
        representative=settings.representative,
        constituency=settings.constituency,
        website=settings.website,
        postal_address=settings.postal_address,
        view_online_url=settings.view_online_url(web_name or issue.slug),
        footer_note=settings.footer_note,
        imprint=settings.imprint,
    )
    return {
        "issue": issue,
        "featured": issue.featured,
        "articles": list(issue.articles),
        "site": site,
        "recipient": SimpleNamespace(**PLACEHOLDERS),
        "preheader_filler": PREHEADER_FILLER,
        "picture": picture,
    }
