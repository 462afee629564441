"""Hypothesis strategies for hostile input: text with controls, markup, formulas, encoded words."""

from __future__ import annotations

import base64
from urllib.parse import quote

from hypothesis import strategies as st

# Characters that break boundaries: line breaks, NUL, ESC, DEL, C1, separators, quotes, markup.
NASTY = st.sampled_from(
    [
        "\r",
        "\n",
        "\r\n",
        "\x00",
        "\x1b",
        "\x7f",
        "\x85",
        "\u2028",
        "\t",
        '"',
        "\\",
        "<",
        ">",
        ",",
        ";",
        ":",
        "[/]",
        "[bold]",
        ":smile:",
        "=",
        "+",
        "-",
        "@",
        "%0D%0A",
        "=?",
        "?=",
        "Bcc: victim@example.net",
    ]
)


def hostile_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Any text, with a good share of the characters that break headers, terminals and CSV."""
    pieces = st.one_of(st.text(max_size=12), NASTY)
    return st.lists(pieces, max_size=max_size // 6 + 1).map("".join)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    """An RFC 2047 encoded word (q or b) of hostile text: what decoding must not turn into a header."""
    text = draw(hostile_text())
    if draw(st.booleans()):
        return f"=?utf-8?q?{quote(text, safe='').replace('%', '=')}?="
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def header_input() -> st.SearchStrategy[str]:
    """Plain hostile text, an encoded word, or both around a real value."""
    return st.one_of(
        hostile_text(),
        encoded_word(),
        st.tuples(hostile_text(20), encoded_word(), hostile_text(20)).map(lambda t: " ".join(t)),
    )
