"""Data quoted in an error message: short, on one line, and a "did you mean" when one is near;
and the one definition of a control character that no one-line value may hold."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

SHOWN_MAX = 60

# C0 controls (tab, CR and LF included) and DEL: what no one-line value may hold (a setting, a
# one-line YAML field, a ward name, a card's summary). Wider sets mean something else and stay
# where they are: `gates.headers.CONTROL` (also C1 and U+2028/U+2029, which some mail clients
# and terminals treat as line breaks: nothing of that reaches a header or a subscriber's name),
# `content._BODY_CONTROL` (an article body keeps its tabs and line breaks but no noncharacter)
# and the consoles' `_UNPRINTABLE` (a terminal line keeps its line break but no bidi override).
ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(value: object, limit: int = SHOWN_MAX) -> str:
    """`repr(value)` cut to `limit` characters: a 1 MB field never becomes a 1 MB error line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the nearest candidate, or an empty string."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
