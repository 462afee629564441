"""Terminal output in one place: rich consoles that honour NO_COLOR and non-terminals, and that
treat every string as text.

Data reaches the terminal from outside the office (a subscriber's name, a relay's reply, a
bounce's status): `[/]` in it would be rich markup (and crash the print), `:smile:` an emoji
code, ESC a terminal escape sequence. So the consoles never interpret markup or emoji codes,
and control characters are shown escaped (`\\x1b`). Styling is applied with `style=` or
`styled()`, never by writing markup into a string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 controls but newline, DEL, C1, the Unicode line separators, and the bidirectional overrides.
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return " " if code == 9 else f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Control characters shown as `\\xNN` / `\\uNNNN` escapes (a tab as a space)."""
    return _UNPRINTABLE.sub(_escape, text)


class TextConsole(Console):
    """A Console whose strings are always plain text (no markup, no emoji codes, no controls)."""

    def render_str(self, text: str, **options: Any) -> Text:
        options["markup"] = False
        options["emoji"] = False
        return super().render_str(printable(text), **options)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line with some parts styled: `styled(("error:", "bold red"), " ", message)`."""
    return Text.assemble(*((printable(p) if isinstance(p, str) else (printable(p[0]), p[1])) for p in parts))


@lru_cache(maxsize=1)
def out_console() -> Console:
    return TextConsole(highlight=False, soft_wrap=True, markup=False, emoji=False)


@lru_cache(maxsize=1)
def err_console() -> Console:
    return TextConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
