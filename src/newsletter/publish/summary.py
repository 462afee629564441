"""A card's summary from a feed item's description: plain text, one line, cut at a sentence end."""

from __future__ import annotations

import re

from newsletter.gates.text import ASCII_CONTROL

CARD = 220  # characters: about three lines of a card on a phone, as the example articles' summaries

# WordPress ends excerpts with "[…]", "Continue reading", or "The post X appeared first on Y."
_TRAILERS = re.compile(
    r"(\s*(\[(…|\.\.\.|&hellip;)\]|continue reading\b.*|read more\b.*|the post .{1,300} appeared first on .*))+$",
    re.I | re.S,
)
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u2019\u201d)\]]*(?=\s|$)")


def one_line(text: str) -> str:
    """Whitespace (line breaks included) collapsed, control characters gone."""
    return " ".join(ASCII_CONTROL.sub(" ", text).split())


def shorten(text: str, limit: int = CARD) -> str:
    """`text` as one line of at most `limit` characters.

    Whole sentences when the first one fits; otherwise the first sentence cut at a word
    boundary with an ellipsis. WordPress's "[…]" and "Continue reading" trailers are dropped.
    """
    text = _TRAILERS.sub("", one_line(text)).strip()
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, limit + 1) if m.end() <= limit]
    if ends:
        return text[: ends[-1]]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:-\u2013\u2014") + "\u2026"
