"""The plain-text part as `format=flowed` (RFC 3676), so narrow plain-text views rewrap it.

Prose is wrapped at 72 columns with a *soft* line break: the line keeps one trailing space, and a
reader that understands flowed text joins it with the next line. Every other line end is hard
(headings, rules, URLs on their own line, list items, quotes). Words, and so URLs, are never split.
Lines that start with a space, `>` or `From ` are space-stuffed (section 4.4), so a reader shows
them as written instead of as quotes.
"""

from __future__ import annotations

SOFT_BREAK = " \n"  # what `prose.wrap` puts between the lines of one paragraph
CONTENT_TYPE_PARAMS = "; format=flowed"


def _needs_stuffing(line: str) -> bool:
    return line.startswith((" ", ">", "From "))


def finish(text: str) -> str:
    """Normalise rendered template output into flowed text.

    Trailing whitespace is dropped, except one space where a non-empty line is followed by a
    non-empty line (a soft break that `prose.wrap` made); lines are space-stuffed where needed.
    """
    lines = text.strip("\n").splitlines()
    out = []
    for index, raw in enumerate(lines):
        line = raw.rstrip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if line and following and raw != line and raw.endswith(" "):
            line += " "
        out.append(" " + line if _needs_stuffing(line) else line)
    return "\n".join(out) + "\n"


def unflow(text: str) -> str:
    """Read flowed text as a client does: unstuff, then join soft-broken lines (for tests and previews)."""
    paragraphs: list[str] = []
    current = ""
    for raw in text.split("\n"):
        line = raw[1:] if raw.startswith(" ") else raw
        current += line
        if not line.endswith(" ") or line == " ":
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n".join(paragraphs)
