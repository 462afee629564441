"""Placeholders left in an issue: the starter intro `new-issue` writes, an article's template
text, TK, TODO, lorem ipsum, an intro with no words. Each is an error, because every one of them
would reach thousands of inboxes looking like a draft; the finding names the file and line so
the fix is one edit away.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from newsletter.checks.findings import Finding
from newsletter.content.issue import Issue
from newsletter.content.placeholders import is_wordless, placeholders
from newsletter.errors import where
from newsletter.gates.text import shown

CODE = "placeholder"
_INTRO_KEY = re.compile(r"^intro\s*:", re.M)


class _Sources:
    """The raw text of the files an issue is made of, read once, to give a finding its line."""

    def __init__(self) -> None:
        self._texts: dict[Path, str] = {}

    def text(self, path: Path) -> str:
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[path] = ""
        return self._texts[path]

    def locate(self, pattern: re.Pattern[str], *paths: Path) -> str:
        """`path:line` of the first file (of `paths`) where `pattern` occurs; the first path without one."""
        for path in paths:
            text = self.text(path)
            if (match := pattern.search(text)) is not None:
                return where(path, text.count("\n", 0, match.start()) + 1)
        return where(paths[0])


def _fields(issue: Issue) -> Iterator[tuple[str, str, tuple[Path, ...]]]:
    """(field, text, files it may come from) for everything a reader sees of the issue."""
    for field, text in (("subject", issue.subject), ("preheader", issue.preheader), ("intro", issue.intro_text)):
        yield f"the {field}", text, (issue.path,)
    for article in issue.all_articles:
        files = (article.path, issue.path)  # a summary or title may be set for this issue only
        for field, text in (
            ("title", article.title),
            ("summary", article.summary),
            ("body", article.body_text),
            ("image_alt", article.image_alt or ""),
        ):
            yield f"the {field} of article {article.slug!r}", text, files


def placeholder_findings(issue: Issue) -> list[Finding]:
    """An error for every placeholder a reader would see, and for an intro with no words."""
    sources = _Sources()
    found: list[Finding] = []
    if is_wordless(issue.intro_text):
        at = sources.locate(_INTRO_KEY, issue.path)
        found.append(Finding("error", CODE, f"{at}: the intro is empty: write a short letter to your readers"))
    for field, text, files in _fields(issue):
        for placeholder in placeholders(text):
            at = sources.locate(placeholder.pattern, *files)
            found.append(
                Finding(
                    "error",
                    CODE,
                    f"{at}: {field} still has {placeholder.what} ({shown(placeholder.found)}): "
                    "write the real text before sending",
                )
            )
    return found
