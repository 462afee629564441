"""The message in real Chromium: dark mode (emulated, and a client's forced inversion) keeps
every section's edge and every text readable; a blocked image's alt text sits inside the margins
at 14 px; axe-core finds nothing in the message itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from newsletter.mail.compose import Composed, compose
from newsletter.settings import load_settings
from tests.conftest import REPO
from tests.support.axe import axe_violations
from tests.support.pixels import Pixel, Png, contrast, luminance

ISSUES = sorted((REPO / "issues").glob("*.yaml"))
INVERT = "html { filter: invert(1) hue-rotate(180deg); }"  # what Gmail/Outlook apps do to a light message


@pytest.fixture(scope="module")
def composed() -> Composed:
    return compose(REPO / "issues" / "spring-2018.yaml", load_settings({}))


def open_message(chromium: Any, html: str, scheme: str) -> Iterator[Any]:
    context = chromium.new_context(color_scheme=scheme, viewport={"width": 800, "height": 1200}, bypass_csp=True)
    context.route(re.compile(r"^https?://"), lambda route: route.abort())  # images blocked, as many clients do
    page = context.new_page()
    page.set_content(html)
    try:
        yield page
    finally:
        context.close()


def colour_at(page: Any, x: float, y: float) -> Pixel:
    return Png(page.screenshot(clip={"x": int(x), "y": int(y), "width": 1, "height": 1})).pixel(0, 0)


def samples(page: Any) -> dict[str, Pixel]:
    """Pixels of the page background, the letter card's inside and its left edge."""
    box = page.locator(".nl-card").first.bounding_box()
    assert box is not None
    y = box["y"] + 12
    return {
        "page": colour_at(page, box["x"] - 30, y),
        "edge": colour_at(page, box["x"], y),
        "card": colour_at(page, box["x"] + 12, y),
    }


def test_dark_mode_changes_the_colours_and_keeps_the_edges(chromium: Any, composed: Composed) -> None:
    html = composed.rendered.personalise(composed.web_values())[0]
    pages = {}
    for scheme, extra in (("light", ""), ("dark", ""), ("inverted", INVERT)):
        for page in open_message(chromium, html, "dark" if scheme == "dark" else "light"):
            if extra:
                page.add_style_tag(content=extra)
            pages[scheme] = samples(page)
            if scheme == "dark":
                unreadable = page.evaluate(TEXT_CONTRAST)
                assert unreadable == [], f"text under 4.5:1 in dark mode: {unreadable[:5]}"
    light, dark, inverted = pages["light"], pages["dark"], pages["inverted"]
    assert luminance(light["page"]) > 0.5 and luminance(light["card"]) > 0.9
    assert luminance(dark["page"]) < 0.05 and luminance(dark["card"]) < 0.05, "dark mode must darken the message"
    assert dark["card"] != dark["page"], "cards and page must stay apart in dark mode"
    for name, seen in (("light", light), ("dark", dark), ("inverted", inverted)):
        assert contrast(seen["edge"], seen["card"]) >= 1.5, f"{name}: the card's edge is lost ({seen})"
        assert contrast(seen["edge"], seen["page"]) >= 1.2 or contrast(seen["card"], seen["page"]) >= 1.2, (
            f"{name}: the card cannot be told from the page ({seen})"
        )


# Every visible text element's colour against the first opaque background up its ancestors.
TEXT_CONTRAST = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('.nl p, .nl h1, .nl h2, .nl h3, .nl li, .nl a, .nl strong')) {
    const box = el.getBoundingClientRect();
    if (!el.textContent.trim() || box.width === 0 || box.height === 0) continue;
    const a = lum(parse(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push(el.textContent.trim().slice(0, 40) + ' ' + ratio.toFixed(2));
  }
  return bad;
}"""


def test_light_mode_text_contrast(chromium: Any, composed: Composed) -> None:
    html = composed.rendered.personalise(composed.web_values())[0]
    for page in open_message(chromium, html, "light"):
        assert page.evaluate(TEXT_CONTRAST) == []


def test_blocked_image_alt_text_sits_inside_the_margin_at_14px(chromium: Any, composed: Composed) -> None:
    html = composed.rendered.personalise(composed.web_values())[0]
    for page in open_message(chromium, html, "light"):
        image = page.locator("img").first
        heading = page.locator(".nl h2").nth(1)  # the featured article's title, under its picture
        image_box, heading_box = image.bounding_box(), heading.bounding_box()
        assert image_box is not None and heading_box is not None
        assert abs(image_box["x"] - heading_box["x"]) <= 1, "alt text must line up with the text column"
        assert image.evaluate("el => getComputedStyle(el).fontSize") == "14px"


@pytest.mark.parametrize("path", ISSUES, ids=[p.stem for p in ISSUES])
def test_axe_finds_nothing_in_the_message(chromium: Any, path: Any) -> None:
    composed = compose(path, load_settings({}))
    html = composed.rendered.personalise(composed.web_values())[0]
    for scheme in ("light", "dark"):
        for page in open_message(chromium, html, scheme):
            assert axe_violations(page) == []
