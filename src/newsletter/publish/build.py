"""`newsletter build`: the web copy of each edition and one sample message, written as files.

The HTML file opens directly in a browser; it is the copy the "view in your browser" link
points to, so it carries no reader's name or unsubscribe token. A ward edition's copy is
`<slug>.<edition>.html` (and `.txt`), where its own link points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import DeliveryError
from newsletter.fileio import PUBLIC, write_atomic
from newsletter.mail.compose import Composed
from newsletter.mail.message import SAMPLE


@dataclass(frozen=True)
class Built:
    """What `build_issue` wrote: the issue and its files, in order."""

    slug: str
    files: list[Path]


def build_files(composed: Composed, out_dir: Path) -> dict[Path, bytes]:
    """Every file of the build and its bytes (nothing written)."""
    files: dict[Path, bytes] = {}
    for edition in composed.editions:
        html, text = edition.rendered.personalise(composed.web_values())
        files[out_dir / f"{edition.edition.file_stem}.html"] = html.encode("utf-8")
        files[out_dir / f"{edition.edition.file_stem}.txt"] = text.encode("utf-8")
    files[out_dir / f"{composed.issue.slug}.eml"] = composed.factory.build(SAMPLE).data
    return files


def build_issue(composed: Composed, out_dir: Path) -> Built:
    """Write the build of `composed` into `out_dir`, each file whole or not at all."""
    files = build_files(composed, out_dir)
    try:
        for path, data in files.items():
            write_atomic(path, data, mode=PUBLIC)
    except OSError as exc:
        raise DeliveryError(f"{out_dir}: cannot write: {exc.strerror}") from exc
    return Built(composed.issue.slug, list(files))
