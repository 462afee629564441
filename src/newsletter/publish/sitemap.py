"""The archive's sitemap (sitemaps.org 0.9), so search engines find every published issue."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_xml(pages: Sequence[tuple[str, dt.date | None]]) -> bytes:
    """`pages` are (absolute URL, last modified) pairs, in the order they are listed."""
    ET.register_namespace("", SITEMAP)
    root = ET.Element(f"{{{SITEMAP}}}urlset")
    for url, modified in pages:
        entry = ET.SubElement(root, f"{{{SITEMAP}}}url")
        ET.SubElement(entry, f"{{{SITEMAP}}}loc").text = url
        if modified is not None:
            ET.SubElement(entry, f"{{{SITEMAP}}}lastmod").text = modified.isoformat()
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
