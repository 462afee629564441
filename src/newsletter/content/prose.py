"""Markdown prose to email HTML and to wrapped plain text.

The plain-text part is written from the Markdown, not scraped from the final HTML (DESIGN.md):
layout tables read badly as text and links get lost. Raw HTML in Markdown is not rendered
('js-default' preset), so an article cannot smuggle markup or scripts into the email.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from newsletter.content.flowed import SOFT_BREAK

WIDTH = 72


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("js-default")


def to_html(markdown: str) -> Markup:
    """Render Markdown to HTML; raw HTML in the source is escaped, not passed through."""
    return Markup(_parser().render(markdown))


def wrap(text: str, width: int = WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap each paragraph of plain text; URLs and long words are never broken.

    Lines of an unindented paragraph end in a soft break (`format=flowed`, see flowed.py), so
    narrow readers rewrap them; indented lines (list items, quotes) keep hard breaks, which is
    the only way their hanging indent survives.
    """
    out = []
    separator = SOFT_BREAK if not indent and first is None else "\n"
    for para in text.split("\n\n"):
        words = " ".join(para.split())
        if not words:
            continue
        lines = textwrap.wrap(
            words,
            width=width,
            initial_indent=indent if first is None else first,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        out.append(separator.join(lines))
    return "\n\n".join(out)


def _inline(token: Token) -> str:
    """Plain text of an inline token, with each link written out as `text (url)`."""
    parts: list[str] = []
    hrefs: list[tuple[str, int]] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "link_open":
            hrefs.append((str(child.attrs.get("href", "")), len(parts)))
        elif child.type == "link_close" and hrefs:
            href, start = hrefs.pop()
            label = "".join(parts[start:]).strip()
            if href.startswith("mailto:"):
                href = href.removeprefix("mailto:")
            if href and href != label:
                parts.append(f" ({href})")
        elif child.type == "image":
            alt = child.content or "image"
            parts.append(f"[{alt}] ({child.attrs.get('src', '')})")
    return "".join(parts)


def to_text(markdown: str, width: int = WIDTH) -> str:
    """Render Markdown to plain text wrapped at `width`: paragraphs, lists, quotes, headings.

    Items of one list are separated by a single newline, other blocks by a blank line.
    """
    blocks: list[str] = []
    quote: list[str] = []
    counters: list[int | None] = []
    item_lead: str | None = None
    heading = False
    last_was_item = False
    for token in _parser().parse(markdown):
        kind = token.type
        if kind == "bullet_list_open":
            counters.append(None)
        elif kind == "ordered_list_open":
            counters.append(int(token.attrs.get("start", 1) or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
            last_was_item = False
        elif kind == "list_item_open":
            number = counters[-1]
            item_lead = "- " if number is None else f"{number}. "
            if number is not None:
                counters[-1] = number + 1
        elif kind == "blockquote_open":
            quote.append("> ")
        elif kind == "blockquote_close":
            quote.pop()
        elif kind == "heading_open":
            heading = True
        elif kind == "inline":
            text = _inline(token)
            prefix = "".join(quote) + "  " * max(0, len(counters) - 1)
            if item_lead is not None:
                body = wrap(text, width, prefix + " " * len(item_lead), first=prefix + item_lead)
                if last_was_item and blocks:
                    blocks[-1] += "\n" + body
                else:
                    blocks.append(body)
                item_lead, last_was_item = None, True
                continue
            body = wrap(text.upper() if heading else text, width, prefix)
            heading = False
            if body:
                blocks.append(body)
                last_was_item = False
        elif kind in ("fence", "code_block"):
            blocks.append("\n".join("    " + line for line in token.content.rstrip("\n").splitlines()))
        elif kind == "hr":
            blocks.append("-" * 20)
    return "\n\n".join(blocks)
