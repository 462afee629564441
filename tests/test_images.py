"""Pictures kept in the project (content/images.py): made for email, cached, addressed under the
archive's URL, published by `newsletter archive`, shown by the preview; real Chromium for the last two."""

from __future__ import annotations

import email
import email.policy
import functools
import io
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from PIL import Image

from newsletter.content.images import prepare
from newsletter.mail.compose import compose
from newsletter.publish.archive import build_archive
from newsletter.settings import load_settings
from tests.support.browser import preview

ISSUE = Path("issues/spring-2018.yaml")
FEATURED = Path("articles/sent-away-children-inquiry.md")
ARCHIVE = "https://news.stockport-office.test/newsletter/"


def _photo(path: Path, size: tuple[int, int], *, gps: bool = False) -> Path:
    picture = Image.new("RGB", size, (120, 160, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (53.0, 24.0, 36.0), 3: "W", 4: (2.0, 9.0, 36.0)}  # GPSInfo: Stockport
    picture.save(path, "JPEG", exif=exif.tobytes())
    return path


def test_gps_exif_comes_out_with_no_exif_at_all(tmp_path: Path) -> None:
    source = _photo(tmp_path / "surgery.jpg", (800, 600), gps=True)
    assert Image.open(source).getexif().get_ifd(0x8825)  # the test photo does carry a position
    made = prepare(source, 183, tmp_path / "cache")
    data = made.path.read_bytes()
    with Image.open(made.path) as out:
        assert not out.getexif() and "exif" not in out.info and "icc_profile" not in out.info
    assert b"Exif" not in data and b"PhoneMaker" not in data


def test_a_4000px_photograph_comes_out_at_twice_the_slot(tmp_path: Path) -> None:
    made = prepare(_photo(tmp_path / "big.jpg", (4000, 3000)), 534, tmp_path / "cache")
    assert (made.width, made.height) == (1068, 801)
    assert (made.slot, made.shown_height) == (534, 400)
    assert made.name.endswith(".jpg") and Image.open(made.path).format == "JPEG"


def test_a_small_picture_is_never_scaled_up(tmp_path: Path) -> None:
    made = prepare(_photo(tmp_path / "small.jpg", (300, 200)), 534, tmp_path / "cache")
    assert (made.width, made.height) == (300, 200)


def test_a_png_with_transparency_stays_png(tmp_path: Path) -> None:
    source = tmp_path / "logo.png"
    picture = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    picture.paste((16, 92, 70, 255), (100, 50, 500, 250))
    picture.save(source)
    made = prepare(source, 183, tmp_path / "cache")
    with Image.open(made.path) as out:
        assert out.format == "PNG" and out.mode == "RGBA" and out.size == (366, 183)
        assert out.getchannel("A").getextrema()[0] == 0


def test_orientation_is_applied_before_the_metadata_goes(tmp_path: Path) -> None:
    source = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to show
    Image.new("RGB", (400, 200), (10, 20, 30)).save(source, "JPEG", exif=exif.tobytes())
    made = prepare(source, 183, tmp_path / "cache")
    assert (made.source_width, made.source_height) == (200, 400)
    assert made.width < made.height


def test_unchanged_pictures_are_made_once_and_a_changed_one_gets_a_new_name(tmp_path: Path) -> None:
    source = _photo(tmp_path / "park.jpg", (2000, 1500))
    cache = tmp_path / "cache"
    first = prepare(source, 534, cache)
    stamp = first.path.stat().st_mtime_ns
    again = prepare(source, 534, cache)
    assert first.made and not again.made
    assert (again.name, again.width, again.height) == (first.name, first.width, first.height)
    assert first.path.stat().st_mtime_ns == stamp
    Image.new("RGB", (2000, 1500), (200, 10, 10)).save(source, "JPEG")
    changed = prepare(source, 534, cache)
    assert changed.made and changed.name != first.name


def test_the_sent_message_points_at_the_archive_with_pixel_sizes(project: Path) -> None:
    settings = load_settings({"NEWSLETTER_ARCHIVE_URL": ARCHIVE})
    composed = compose(project / ISSUE, settings)
    from newsletter.audience.people import Subscriber

    raw = composed.factory.build(Subscriber(email="reader@example.org")).data
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    tags = list(lxml.html.document_fromstring(html_part.get_content()).iter("img"))
    assert len(tags) == 3
    for tag in tags:
        assert tag.get("src", "").startswith(ARCHIVE + "images/"), tag.get("src")
        assert re.fullmatch(r"[0-9]+", tag.get("width", "")) and re.fullmatch(r"[0-9]+", tag.get("height", ""))
    assert {t.get("width") for t in tags} == {"534", "183"}
    names = {i.name for i in composed.rendered.images}
    assert {t.get("src", "").rsplit("/", 1)[1] for t in tags} == names


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("images/holiday.heic", "HEIC"),
        ("../secret.jpg", "must be an http(s) URL or a file in the project's images/ folder"),
        ("images/missing.jpg", "not found"),
        ("images/anim.gif", "is not a JPEG, PNG or WebP picture"),
    ],
)
def test_a_picture_that_cannot_be_used_is_one_line_naming_the_field(
    project: Path, run_cli: object, value: str, said: str
) -> None:
    (project / "images" / "anim.gif").write_bytes(b"GIF89a")
    (project / "images" / "holiday.heic").write_bytes(b"\0\0\0\x18ftypheic")
    text = (project / FEATURED).read_text(encoding="utf-8")
    (project / FEATURED).write_text(re.sub(r"^image: .*$", f"image: {value}", text, flags=re.M), encoding="utf-8")
    result = run_cli("build", str(ISSUE))  # type: ignore[operator]
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and "sent-away-children-inquiry.md:7: field 'image'" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_a_picture_is_refused_naming_the_article(project: Path, run_cli: object) -> None:
    (project / "images" / "bus-shelter.png").write_bytes(b"not a picture at all")
    result = run_cli("build", str(ISSUE))  # type: ignore[operator]
    assert result.returncode == 2 and "sent-away-children-inquiry.md:7" in result.stderr
    assert "is not a picture that can be read" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback web server over a folder: where the archive is published in the test."""
    folder = tmp_path / "site"
    (folder / "newsletter").mkdir(parents=True)
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/newsletter/", folder / "newsletter"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _loaded_images(page: object) -> list[int]:
    return page.evaluate(  # type: ignore[attr-defined,no-any-return]
        "() => Promise.all([...document.images].map(i => i.decode().then(() => i.naturalWidth, () => 0)))"
    )


def test_the_archive_publishes_the_pictures_and_chromium_loads_them(
    project: Path, chromium: object, static_site: tuple[str, Path]
) -> None:
    base, out = static_site
    settings = load_settings({"NEWSLETTER_ARCHIVE_URL": base})
    report = build_archive(project, settings, {}, out, include_unsent=True)
    assert not report.lost_images
    published = sorted(p.name for p in (out / "images").iterdir())
    assert len(published) == 7  # six pictures, one of them in two slots (a card, and featured)
    assert all(re.fullmatch(r"[a-z-]+-[0-9a-f]{16}\.jpg", n) for n in published)
    context = chromium.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        for slug, count in (("spring-2018", 3), ("november-2019", 2), ("early-2019", 1)):
            page.goto(base + f"{slug}.html")
            widths = _loaded_images(page)
            assert len(widths) == count and all(w > 0 for w in widths), (slug, widths)
    finally:
        context.close()


def test_the_preview_shows_the_pictures_from_the_project(project: Path, chromium: object) -> None:
    context = chromium.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        with preview(project) as running:
            page.goto(running.url + "message.html?subscriber=reader%40example.org")
            widths = _loaded_images(page)
            assert len(widths) == 3 and all(w > 0 for w in widths), widths
            sources = page.evaluate("() => [...document.images].map(i => i.src)")
            assert all(s.startswith(running.url + "images/") for s in sources), sources
            missing = page.request.get(running.url + "images/../.env")
            assert missing.status == 404
    finally:
        context.close()


def test_the_example_pictures_are_drawn_for_email(tmp_path: Path) -> None:
    from benchmarks.draw_example_images import draw_all

    for path in draw_all(tmp_path):
        with Image.open(io.BytesIO(path.read_bytes())) as picture:
            assert picture.size == (1200, 750)
