"""The accessibility checker itself can fail: axe-core finds a known violation in a real page."""

from __future__ import annotations

from typing import Any

from tests.support.axe import axe_violations, describe


def test_axe_reports_an_image_without_alt_and_passes_a_clean_page(chromium: Any) -> None:
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.set_content(
            '<!doctype html><html lang="en"><head><title>t</title></head>'
            '<body><main><h1>Hello</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            "</main></body></html>"
        )
        ids = {v["id"] for v in axe_violations(page)}
        assert "image-alt" in ids, describe(axe_violations(page))
        page.set_content(
            '<!doctype html><html lang="en"><head><title>t</title></head>'
            "<body><main><h1>Hello</h1><p>Plain text.</p></main></body></html>"
        )
        assert axe_violations(page) == []
    finally:
        context.close()
