"""The contrast check follows WCAG 2.1 AA (1.4.3) exactly: 4.5:1 for normal text, 3:1 for large
text (at least 18pt, or 14pt bold: 24px, or 18.67px bold). Each threshold is tried on both sides;
hypothesis compares the check with the WCAG formula written out again here, over colours,
sizes, units and weights; and axe-core in Chromium agrees on cases clear of the edges."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.checks.accessibility import audit

Colour = tuple[int, int, int]
WHITE: Colour = (255, 255, 255)
# Grey on white (ratios from the formula below): each pair is just either side of a threshold.
ABOVE_4_5, BELOW_4_5 = (0x76,) * 3, (0x77,) * 3  # 4.54:1 and 4.478:1
ABOVE_3, BELOW_3 = (0x94,) * 3, (0x95,) * 3  # 3.03:1 and 2.99:1


def wcag_ratio(a: Colour, b: Colour) -> float:
    """WCAG 2.x contrast ratio, from the definition of relative luminance (sRGB, IEC 61966-2-1)."""

    def relative_luminance(colour: Colour) -> float:
        linear = []
        for value in colour:
            srgb = value / 255
            linear.append(srgb / 12.92 if srgb <= 0.04045 else math.pow((srgb + 0.055) / 1.055, 2.4))
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def wcag_large(size: Fraction, unit: str, bold: bool) -> bool:
    """18pt, or 14pt bold; 1px is 3/4pt (CSS), in exact fractions."""
    points = size if unit == "pt" else size * Fraction(3, 4)
    return points >= 18 or (bold and points >= 14)


def hex_of(colour: Colour) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour)


def page(colour: Colour, size: str, weight: str = "", wrap: str = "", background: Colour = WHITE) -> str:
    style = f"color:{hex_of(colour)};font-size:{size}" + (f";font-weight:{weight}" if weight else "")
    text = f"<{wrap}>Ward surgery times</{wrap}>" if wrap else "Ward surgery times"
    return (
        f'<!doctype html><html lang="en"><head><meta name="color-scheme" content="light dark"></head>'
        f'<body style="background-color:{hex_of(background)}"><p style="{style}">{text}</p></body></html>'
    )


def contrast_errors(html: str) -> list[str]:
    return [f.message for f in audit(html) if f.code == "contrast"]


@pytest.mark.parametrize(("size", "weight", "large"), [
    ("24px", "", True), ("23.9px", "", False), ("18pt", "", True), ("17.9pt", "", False),
    ("18.67px", "bold", True), ("18.66px", "bold", False), ("14pt", "700", True), ("13.9pt", "bold", False),
    ("14pt", "600", False), ("14pt", "normal", False), ("18.67px", "", False), ("2em", "bold", False),
])  # fmt: skip
def test_each_size_threshold_from_both_sides(size: str, weight: str, large: bool) -> None:
    # 3.03:1 passes only as large text; 2.99:1 never passes.
    assert (contrast_errors(page(ABOVE_3, size, weight)) == []) is large
    assert contrast_errors(page(BELOW_3, size, weight)) != []
    assert contrast_errors(page(ABOVE_4_5, size, weight)) == []


@pytest.mark.parametrize("size", ["16px", "24px"])
def test_each_ratio_threshold_from_both_sides(size: str) -> None:
    minimum = ABOVE_3 if size == "24px" else ABOVE_4_5
    under = BELOW_3 if size == "24px" else BELOW_4_5
    assert contrast_errors(page(minimum, size)) == []
    [message] = contrast_errors(page(under, size))
    # Rounded down, so a ratio just under the line never reads as the line itself.
    expected = (
        "2.99:1, under 3:1 (WCAG AA, large text)" if size == "24px" else "4.47:1, under 4.5:1 (WCAG AA, normal text)"
    )
    assert expected in message, message


@pytest.mark.parametrize(("wrap", "large"), [("strong", True), ("b", True), ("span", False)])
def test_bold_from_the_tag(wrap: str, large: bool) -> None:
    assert (contrast_errors(page(ABOVE_3, "19px", wrap=wrap)) == []) is large


def test_a_nearer_weight_wins() -> None:
    html = page(ABOVE_3, "19px", "bold").replace("Ward surgery times", '<span style="font-weight:400">Ward</span>')
    assert contrast_errors(html) != []


colours = st.tuples(*[st.integers(0, 255)] * 3)
sizes = st.one_of(
    st.sampled_from(["24", "23.99", "18", "17.99", "14", "13.99", "18.67", "18.66", "16", "32"]),
    st.decimals(8, 40, places=2).map(str),
)
weights = st.sampled_from(
    [
        ("", False),
        ("normal", False),
        ("400", False),
        ("600", False),
        ("bold", True),
        ("700", True),
        ("900", True),
        ("bolder", True),
    ]
)


@given(colours, colours, sizes, st.sampled_from(["px", "pt"]), weights)
def test_the_check_is_the_wcag_rule(fg: Colour, bg: Colour, size: str, unit: str, weight: tuple[str, bool]) -> None:
    ratio = wcag_ratio(fg, bg)
    minimum = 3.0 if wcag_large(Fraction(size), unit, weight[1]) else 4.5
    if abs(ratio - minimum) < 1e-9:
        return  # float rounding at the exact edge decides nothing about the rule
    found = contrast_errors(page(fg, f"{size}{unit}", weight[0], background=bg))
    assert (found != []) is (ratio < minimum), (ratio, minimum, found)


# Cases clear of every edge (sizes a whole step from a threshold, ratios 0.05 from one), for axe-core.
AXE_CASES = [
    (colour, size, weight)
    for colour in (ABOVE_4_5, BELOW_4_5, ABOVE_3, (0x99,) * 3, (0x70,) * 3)
    for size in ("16px", "20px", "23px", "25px", "13pt", "15pt", "19pt")
    for weight in ("normal", "bold")
]


def test_axe_core_agrees(chromium: Any) -> None:
    from tests.support.axe import axe_violations

    body = "".join(
        f'<p id="c{i}" style="color:{hex_of(c)};font-size:{s};font-weight:{w}">Case {i}</p>'
        for i, (c, s, w) in enumerate(AXE_CASES)
    )
    html = page((0, 0, 0), "16px").replace('<p style="color:#000000;font-size:16px">Ward surgery times</p>', body)
    ours = {f"#c{i}" for i, (c, s, w) in enumerate(AXE_CASES) if contrast_errors(page(c, s, w))}
    context = chromium.new_context(bypass_csp=True)
    try:
        tab = context.new_page()
        tab.set_content(html)
        theirs = {
            target
            for violation in axe_violations(tab)
            if violation["id"] == "color-contrast"
            for node in violation["nodes"]
            for target in node["target"]
        }
    finally:
        context.close()
    assert 0 < len(ours) < len(AXE_CASES)
    assert theirs == ours
