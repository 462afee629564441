"""Articles: Markdown files with YAML front matter, validated field by field."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from newsletter.content import images, prose
from newsletter.errors import InputError
from newsletter.gates.text import ASCII_CONTROL, shown
from newsletter.yamlfile import MAX_CHARS, Located, load_mapping

# Control characters and Unicode noncharacters: no email or XML may carry them (MJML refuses
# U+FFFE, and the error would otherwise name the template).
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufdd0-\ufdef\ufffe\uffff]")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# `import_hash` is written by `newsletter import` (publish/articlefile.py) to detect hand edits.
FIELDS = {"title", "date", "summary", "url", "category", "image", "image_alt", "source", "import_hash"}
REQUIRED = ("title", "date", "summary", "url", "category")


@dataclass(frozen=True)
class Article:
    """One article, with its body rendered once to HTML and to wrapped plain text."""

    slug: str
    title: str
    date: dt.date
    summary: str
    url: str
    category: str
    image: str | None
    image_alt: str | None
    source: str | None
    body_html: Markup
    body_text: str
    path: Path
    # With `image:` naming a file in the project's images/ folder (images.py): that file, and
    # `file:line` of the field for errors found when the picture is made.
    image_file: Path | None = None
    image_at: str = ""
    image_alt_at: str = ""  # `file:line` of `image_alt:`, for the alt text findings of `check`

    @property
    def date_text(self) -> str:
        return format_date(self.date)


def format_date(day: dt.date) -> str:
    """British style, as the office writes it: 6 April 2018."""
    return f"{day.day} {day:%B %Y}"


def parse_date(value: object, where: str, field: str) -> dt.date:
    """Accept a YAML date or an ISO string; anything else names the field."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{where}: field '{field}': {shown(value)} is not a date (YYYY-MM-DD)")


def text_field(doc: Located, field: str, *, required: bool = True, single_line: bool = True) -> str | None:
    """A string field: present when required, a string, and on one line where it must be."""
    value = doc.data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"{doc.at(field)}: field '{field}' is missing or empty")
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise InputError(f"{doc.at(field)}: field '{field}' must be text, not {type(value).__name__}")
    text = str(value).strip()
    if single_line and ASCII_CONTROL.search(text):
        raise InputError(f"{doc.at(field)}: field '{field}' must be a single line")
    if found := _BODY_CONTROL.search(text):
        raise InputError(
            f"{doc.at(field)}: field '{field}' contains the character U+{ord(found.group()):04X},"
            " which no email can carry (it is invisible in most editors)"
        )
    return text


def check_url(doc: Located, field: str, url: str | None) -> None:
    if url is not None and not re.match(r"^https?://[^\s/]+\.[^\s]+$", url):
        raise InputError(f"{doc.at(field)}: field '{field}': {shown(url)} is not an http(s) URL")


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """Return (front matter, body, line of the body's first line)."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InputError(f"{path}:1: expected front matter starting with a '---' line")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise InputError(f"{path}:1: front matter is not closed by a '---' line")


def load_article(path: Path) -> Article:
    """Read and validate `articles/<slug>.md`."""
    slug = path.stem
    if not SLUG.match(slug):
        raise InputError(f"{path}: article file names must be lowercase slugs like 'county-lines.md'")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(text) > MAX_CHARS:
        raise InputError(f"{path}: {len(text):,} characters is more than the {MAX_CHARS:,} a newsletter file may have")
    front, body, body_line = split_front_matter(text, path)
    control = _BODY_CONTROL.search(body)
    if control:  # the article's fault, not the template's: say so where it is
        line = body_line + body.count("\n", 0, control.start())
        raise InputError(
            f"{path}:{line}: the article contains the character U+{ord(control.group()):04X}"
            " (remove it; it is invisible in most editors)"
        )
    doc = load_mapping(front, path, line_offset=1)
    unknown = sorted(set(doc.data) - FIELDS)
    if unknown:
        raise InputError(f"{doc.at(unknown[0])}: unknown field '{unknown[0]}' (known: {', '.join(sorted(FIELDS))})")
    for field in REQUIRED:
        if field != "date":
            text_field(doc, field)
    url = text_field(doc, "url")
    check_url(doc, "url", url)
    image = text_field(doc, "image", required=False)
    image_file = None
    if image is not None and not images.is_url(image):
        image_file = images.locate(image, path.parent.parent, doc.at("image"))
    else:
        check_url(doc, "image", image)
    image_alt = text_field(doc, "image_alt", required=False)
    if image and not image_alt:
        raise InputError(
            f"{doc.at('image')}: field 'image_alt' is required with an image (screen readers, blocked images)"
        )
    if "date" not in doc.data:
        raise InputError(f"{doc.at('date')}: field 'date' is missing or empty")
    if not body.strip():
        raise InputError(f"{path}: the article has no body below its front matter")
    return Article(
        slug=slug,
        title=text_field(doc, "title") or "",
        date=parse_date(doc.data["date"], doc.at("date"), "date"),
        summary=text_field(doc, "summary") or "",
        url=url or "",
        category=text_field(doc, "category") or "",
        image=image,
        image_alt=image_alt,
        source=text_field(doc, "source", required=False),
        body_html=prose.to_html(body),
        body_text=prose.to_text(body),
        path=path,
        image_file=image_file,
        image_at=doc.at("image"),
        image_alt_at=doc.at("image_alt"),
    )
