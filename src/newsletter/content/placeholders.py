"""Text that stands in for writing still to be done, so `check` can refuse it before readers see it.

Kept here, below both `publish` (whose `new-issue` writes the starter intro) and `checks` (which
looks for it), so the words the starter writes and the words the check looks for are one
constant and cannot drift apart. The markers are the ones editors leave (TK, TODO, FIXME,
lorem ipsum); TK and TODO count only in capitals, as words, so "Tkachenko" or "to do" pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What `newsletter new-issue` writes as the intro (publish/newissue.py), line by line.
STARTER_INTRO = (
    "Write a short letter to your readers here, in Markdown: what is in this issue and why",
    "it matters. It ends with your own sign-off; the template adds the representative's name.",
)

# The article template (the example in the README's "Articles" section): its summary and body.
ARTICLE_SUMMARY = "One or two sentences for the article's card."
ARTICLE_BODY = "The body, in Markdown: paragraphs, lists, **bold**, [links](https://www.example.org/)."

_STARTER = "the starter text `newsletter new-issue` wrote"
_TEMPLATE = "the article template's text"


def _sentences(text: str) -> list[str]:
    """The plain sentences of a template text, up to its first Markdown mark (which rendering
    removes), each long enough to be unmistakable."""
    plain = re.split(r"[*\[_`]", text, maxsplit=1)[0]
    parts = (part.strip(" ,;:.") for part in re.split(r"(?<=[.;])\s+", plain))
    return [part for part in parts if len(part.split()) >= 4]


# Each phrase is matched across line breaks and rendering (Markdown gone, lines rewrapped).
_TEMPLATES = (
    *((sentence, _STARTER) for sentence in _sentences(" ".join(STARTER_INTRO))),
    *((sentence, _TEMPLATE) for sentence in _sentences(ARTICLE_SUMMARY) + _sentences(ARTICLE_BODY)),
)
_MARKERS = (
    (re.compile(r"\b(?:TK)+\b"), "the placeholder mark TK"),
    (re.compile(r"\bTODO\b"), "the placeholder mark TODO"),
    (re.compile(r"\bFIXME\b"), "the placeholder mark FIXME"),
    (re.compile(r"\blorem\s+ipsum\b", re.IGNORECASE), "placeholder text (lorem ipsum)"),
)


def _phrase(words: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(word) for word in words.split()), re.IGNORECASE)


PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    *((_phrase(words), what) for words, what in _TEMPLATES),
    *_MARKERS,
)


@dataclass(frozen=True)
class Placeholder:
    """One placeholder found in a text: what it is and the words that matched."""

    what: str
    found: str
    pattern: re.Pattern[str]


def placeholders(text: str) -> list[Placeholder]:
    """Every kind of placeholder in `text`, its first match, in the order of `PATTERNS`."""
    found: list[Placeholder] = []
    for pattern, what in PATTERNS:
        match = pattern.search(text)
        if match is not None and all(p.what != what for p in found):
            found.append(Placeholder(what, " ".join(match.group(0).split()), pattern))
    return found


def is_wordless(text: str) -> bool:
    """True when `text` has no letter or digit: an intro of only punctuation or spaces says nothing."""
    return not any(character.isalnum() for character in text)
