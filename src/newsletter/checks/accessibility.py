"""What the final, inlined HTML does for people: alt text, link text, headings, language, contrast,
text size, dark mode and image sizes. Read from the message as sent, not from the templates.

premailer has already resolved the stylesheet into `style` attributes, so each text's colour,
background and size are found by walking up its ancestors' inline styles, as a mail client that
ignores `<style>` (Gmail's app for non-Google accounts, many webmails) would show it.
Contrast follows WCAG 2.1 AA (1.4.3): 4.5:1 for normal text, 3:1 for large text (18pt, or 14pt
bold); a size in another unit than px or pt is read as normal text, never as large.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html
from lxml.html import HtmlElement

from newsletter.checks.findings import Finding

# WCAG 2.1 AA, success criterion 1.4.3: at least 4.5:1, or 3:1 for large text, which is at
# least 18pt, or 14pt bold (24px, or 18.67px bold: 1pt is 4/3 CSS px).
MIN_CONTRAST = 4.5
MIN_CONTRAST_LARGE = 3.0
LARGE_PT = 18.0
LARGE_BOLD_PT = 14.0
BOLD_WEIGHT = 700  # CSS `bold`; 600 (semibold) is not bold to WCAG's reading
BOLD_TAGS = ("b", "strong", "th", "h1", "h2", "h3", "h4", "h5", "h6")  # bold by the browser's own style
MIN_FONT_PX = 14.0
VAGUE_LINK_TEXT = {
    "click here", "here", "read more", "more", "learn more", "find out more", "continue reading",
    "this", "link", "this link", "go", "details", "more info", "view",
}  # fmt: skip
NAMED = {"white": (255, 255, 255), "black": (0, 0, 0), "red": (255, 0, 0), "green": (0, 128, 0),
         "blue": (0, 0, 255), "gray": (128, 128, 128), "grey": (128, 128, 128)}  # fmt: skip
Colour = tuple[int, int, int]
TRANSPARENT = "transparent"


def parse_colour(value: str) -> Colour | str | None:
    """A CSS colour as RGB, `TRANSPARENT`, or None when it is not one we can read."""
    value = value.strip().lower().removesuffix("!important").strip()
    if value in ("transparent", "none"):
        return TRANSPARENT
    if value in NAMED:
        return NAMED[value]
    match = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    match = re.fullmatch(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)", value)
    if match:
        if match.group(4) is not None and float(match.group(4)) == 0:
            return TRANSPARENT
        r, g, b = (min(255, int(match.group(i))) for i in (1, 2, 3))
        return r, g, b
    return None


def luminance(colour: Colour) -> float:
    """WCAG relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Colour, b: Colour) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_of(colour: Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def styles(element: HtmlElement) -> dict[str, str]:
    """The element's inline declarations, lower-cased property names."""
    found: dict[str, str] = {}
    for declaration in (element.get("style") or "").split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            found[name.strip().lower()] = value.strip()
    return found


def _background(element: HtmlElement) -> Colour | str | None:
    style = styles(element)
    for name in ("background-color", "background"):
        if name in style:
            for token in re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\([^)]*\)|[a-zA-Z]+", style[name]):
                colour = parse_colour(token)
                if colour is not None:
                    return colour
    bgcolor = element.get("bgcolor")
    return parse_colour(bgcolor) if bgcolor else None


@dataclass(frozen=True)
class TextRun:
    """Text an element shows itself, with the colour, background and size it is shown in."""

    element: HtmlElement
    text: str
    colour: Colour
    colour_set: bool  # False: the client's default text colour
    background: Colour | None  # None: nothing up the tree paints one (the client's canvas shows)
    font_px: float | None  # None: a size not in px or pt (read as normal text, the stricter rule)
    bold: bool = False

    @property
    def large(self) -> bool:
        """WCAG's large text: at least 18pt, or at least 14pt and bold."""
        return large_text(self.font_px, self.bold)

    @property
    def minimum(self) -> float:
        return MIN_CONTRAST_LARGE if self.large else MIN_CONTRAST


def large_text(font_px: float | None, bold: bool) -> bool:
    if font_px is None:
        return False
    points = font_px * 0.75
    return points >= LARGE_PT or (bold and points >= LARGE_BOLD_PT)


def _ancestry(element: HtmlElement) -> list[HtmlElement]:
    chain = [element]
    chain.extend(element.iterancestors())
    return chain


def _hidden(chain: list[HtmlElement]) -> bool:
    for node in chain:
        style = styles(node)
        if style.get("display", "").replace(" ", "") == "none" or "mso-hide" in style:
            return True
        if node.get("aria-hidden") == "true" and node.tag != "span":
            return True
    return False


def _font_px(chain: list[HtmlElement]) -> float | None:
    for node in chain:
        size = styles(node).get("font-size")
        if size:
            value_text = size.strip().lower().removesuffix("!important").strip()
            match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(px|pt)", value_text)
            if match is None:
                return None
            value = float(match.group(1))
            return value if match.group(2) == "px" else value * 4 / 3
    return None


def _bold(chain: list[HtmlElement]) -> bool:
    """The nearest `font-weight` up the tree, or a tag the browser shows bold (`<strong>`, `<th>`)."""
    for node in chain:
        weight = styles(node).get("font-weight", "").removesuffix("!important").strip().lower()
        if weight:
            if weight in ("bold", "bolder"):
                return True
            if weight.isdigit():
                return int(weight) >= BOLD_WEIGHT
            if weight in ("normal", "lighter"):
                return False
        if node.tag in BOLD_TAGS:
            return True
    return False


def text_runs(root: HtmlElement) -> Iterator[TextRun]:
    body = root.find("body")
    if body is None:
        return
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in ("style", "script", "title"):
            continue
        own = (element.text or "") + "".join(child.tail or "" for child in element)
        own = " ".join(own.split()).replace("\u200c", "").replace("\u034f", "").strip()
        if not own:
            continue
        chain = _ancestry(element)
        if _hidden(chain):
            continue
        colour: Colour = (0, 0, 0)
        colour_set = False
        for node in chain:
            value = styles(node).get("color") or (node.get("color") if node.tag == "font" else None)
            parsed = parse_colour(value) if value else None
            if isinstance(parsed, tuple):
                colour, colour_set = parsed, True
                break
        background: Colour | None = None
        for node in chain:
            paint = _background(node)
            if isinstance(paint, tuple):
                background = paint
                break
        yield TextRun(element, own, colour, colour_set, background, _font_px(chain), _bold(chain))


def _quote(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


def audit(html: str, where: str = "") -> list[Finding]:
    """Accessibility, dark-mode and image findings for one rendered HTML part."""
    prefix = f"{where}: " if where else ""
    root = lxml.html.document_fromstring(html)
    found: list[Finding] = []
    if not (root.get("lang") or "").strip():
        message = f"{prefix}the <html> element has no lang: screen readers guess the language"
        found.append(Finding("error", "lang", message))
    found += _images(root, prefix)
    found += _links(root, prefix)
    found += _headings(root, prefix)
    found += _text(root, prefix)
    found += _dark_mode(root, prefix)
    return found


def _images(root: HtmlElement, prefix: str) -> list[Finding]:
    found = []
    for image in root.iter("img"):
        src = image.get("src") or ""
        name = repr(src[:80])
        alt = image.get("alt")
        link = next((a for a in image.iterancestors("a")), None)
        if alt is None:
            found.append(Finding("error", "image-alt", f"{prefix}image {name} has no alt attribute"))
        elif not alt.strip() and link is not None and not link.text_content().strip():
            message = f"{prefix}image {name} is a link's only content but has empty alt"
            found.append(Finding("error", "image-alt", message))
        elif not alt.strip():
            message = f"{prefix}image {name} has empty alt (right only for decoration)"
            found.append(Finding("warning", "image-alt", message))
        if not src.startswith("https://"):
            found.append(Finding("warning", "image-src", f"{prefix}image {name} is not loaded over https"))
        width, height = image.get("width"), image.get("height")
        if not width or not re.fullmatch(r"\d+", width):
            found.append(
                Finding(
                    "warning",
                    "image-size",
                    f"{prefix}image {name} has "
                    f"{f'width {width!r}' if width else 'no width'}, not whole pixels: "
                    "Outlook then sizes it from the file",
                )
            )
        if not height:
            found.append(Finding("warning", "image-size", f"{prefix}image {name} has no height attribute"))
    return found


def link_text(anchor: HtmlElement) -> str:
    """What a screen reader's list of links says for an anchor: its text, else its images' alt."""
    text = " ".join(anchor.text_content().split())
    if not text:
        text = " ".join((img.get("alt") or "").strip() for img in anchor.iter("img")).strip()
    return text


def _links(root: HtmlElement, prefix: str) -> list[Finding]:
    found = []
    for anchor in root.iter("a"):
        href = anchor.get("href")
        if href is None:
            continue
        text = link_text(anchor)
        plain = text.lower().strip(" .:!\u00bb\u203a\u2192")
        if not text:
            found.append(Finding("error", "link-text", f"{prefix}the link to {href[:80]!r} has no text"))
        elif plain in VAGUE_LINK_TEXT:
            found.append(
                Finding("warning", "link-text", f"{prefix}link text {text!r} does not say where it goes ({href[:80]})")
            )
        elif re.fullmatch(r"(https?://|www\.)\S+", text):
            found.append(
                Finding("warning", "link-text", f"{prefix}link text is a bare URL ({text[:80]}): say where it goes")
            )
    return found


def _headings(root: HtmlElement, prefix: str) -> list[Finding]:
    found = []
    previous = 0
    for element in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        level = int(element.tag[1])
        if previous and level > previous + 1:
            title = " ".join(element.text_content().split())
            found.append(
                Finding(
                    "warning",
                    "headings",
                    f"{prefix}heading h{level} {_quote(title)} follows h{previous}: heading levels skip one",
                )
            )
        previous = level
    return found


def _text(root: HtmlElement, prefix: str) -> list[Finding]:
    found = []
    pairs: set[tuple[Colour, Colour, float]] = set()
    sizes: set[float] = set()
    for run in text_runs(root):
        background = run.background or (255, 255, 255)
        ratio = contrast(run.colour, background)
        if ratio < run.minimum and (run.colour, background, run.minimum) not in pairs:
            pairs.add((run.colour, background, run.minimum))
            kind = "large text" if run.large else "normal text"
            found.append(
                Finding(
                    "error",
                    "contrast",
                    f"{prefix}text {hex_of(run.colour)} on {hex_of(background)} is "
                    f"{_ratio(ratio)}:1, under {run.minimum:g}:1 (WCAG AA, {kind}), e.g. {_quote(run.text)}",
                )
            )
        if run.font_px is not None and run.font_px < MIN_FONT_PX and run.font_px not in sizes:
            sizes.add(run.font_px)
            found.append(
                Finding(
                    "warning",
                    "text-size",
                    f"{prefix}text at {run.font_px:g}px, under {MIN_FONT_PX:g}px, e.g. {_quote(run.text)}",
                )
            )
    return found


def _ratio(ratio: float) -> str:
    """Rounded down: 4.46:1 must not read as "4.5:1, under 4.5:1"."""
    return f"{math.floor(ratio * 100) / 100:.2f}"


def _dark_mode(root: HtmlElement, prefix: str) -> list[Finding]:
    """Colours that vanish when a client darkens the canvas but leaves explicit colours alone."""
    found = []
    if not root.xpath('//meta[@name="color-scheme"]'):
        found.append(
            Finding(
                "warning",
                "dark-mode",
                f'{prefix}no <meta name="color-scheme">: dark-mode clients will invert the colours their own way',
            )
        )
    seen: set[Colour] = set()
    for run in text_runs(root):
        if run.colour_set and run.background is None and luminance(run.colour) < 0.2 and run.colour not in seen:
            seen.add(run.colour)
            found.append(
                Finding(
                    "warning",
                    "dark-mode",
                    f"{prefix}text {hex_of(run.colour)} has no background of its own: "
                    f"on a dark canvas it disappears, e.g. {_quote(run.text)}",
                )
            )
    return found
