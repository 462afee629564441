"""Reading a built static site back: every link of every page and feed, to check they resolve."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)


def html_links(path: Path) -> list[str]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.links


def xml_links(path: Path) -> list[str]:
    """`href` attributes and sitemap `<loc>`s of an XML file."""
    links = []
    for element in ET.parse(path).iter():
        if "href" in element.attrib:
            links.append(element.attrib["href"])
        if element.tag.endswith("}loc") and element.text:
            links.append(element.text)
    return links


def broken_links(site: Path, base_url: str) -> tuple[list[str], int]:
    """(links inside the site that point at no file, number of internal links checked).

    A link is inside the site when, resolved against its page's address under `base_url`,
    it starts with `base_url`. Links elsewhere must be absolute http(s) or mailto.
    """
    broken, checked = [], 0
    for path in sorted(site.iterdir()):
        if path.suffix == ".html":
            links = html_links(path)
        elif path.suffix == ".xml":
            links = xml_links(path)
        else:
            continue
        for link in links:
            absolute = urljoin(base_url + path.name, link)
            if absolute.split("#")[0].startswith(base_url):
                checked += 1
                name = urlsplit(absolute).path.removeprefix(urlsplit(base_url).path) or "index.html"
                if not (site / name).is_file():
                    broken.append(f"{path.name}: {link}")
            elif urlsplit(absolute).scheme not in ("http", "https", "mailto"):
                broken.append(f"{path.name}: {link} (not http(s) or mailto)")
    return broken, checked
