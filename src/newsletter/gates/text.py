"""Data quoted in an error message: short, on one line, and a "did you mean" when one is near."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SHOWN_MAX = 60


def shown(value: object, limit: int = SHOWN_MAX) -> str:
    """`repr(value)` cut to `limit` characters: a 1 MB field never becomes a 1 MB error line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the nearest candidate, or an empty string."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
