"""Pictures kept in the project (`images/`), made for email once and cached by content hash.

An article's `image:` is either an http(s) URL (used as it is) or a file under the project's
`images/` folder. A file is made for email here: orientation applied from EXIF, every metadata
block dropped (a phone's GPS position above all), scaled down to twice the template's slot width
for high-density screens (never up), and saved as JPEG, or as PNG when it has transparency,
because Outlook for Windows shows neither WebP nor AVIF. The result is named by the hash of its
bytes, so a changed picture gets a new URL and no cache anywhere serves the old one.

The work is done once per picture and slot: `.newsletter-images/` keeps each result with a small
record of its size, keyed by the hash of the source bytes, so a rebuild with unchanged pictures
reads and hashes files but decodes nothing. Messages refer to the results by absolute URL under
`NEWSLETTER_ARCHIVE_URL` + `images/`; `newsletter archive` publishes them there.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from newsletter.errors import InputError
from newsletter.fileio import PUBLIC, write_atomic
from newsletter.gates.text import shown

IMAGES_DIR = "images"  # in the project, and in the published archive
CACHE_DIR = Path(".newsletter-images")  # beside .newsletter/, whose absence says "no database yet"
PROCESS_VERSION = 1  # part of every cache key: bump it when the processing below changes
DENSITY = 2  # pixels per CSS pixel of the slot (high-density screens)
JPEG_QUALITY = 82
MAX_PIXELS = 80_000_000  # a larger "photo" is a decompression bomb, not a picture
PICTURE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP"}
HEIC_SUFFIXES = {".heic", ".heif"}
RESULT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}-[0-9a-f]{16}\.(jpg|png)$")

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def heic_supported() -> bool:
    """Whether pillow-heif is installed (it registers HEIC with Pillow); without it, a HEIC
    picture is refused by name rather than failing deep inside Pillow."""
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    register_heif_opener()
    return True


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def locate(value: str, root: Path, where: str) -> Path:
    """The file an article's `image:` names: `images/park.jpg` or `park.jpg`, inside the
    project's `images/` folder and nowhere else."""
    posix = PurePosixPath(value)
    parts = posix.parts[1:] if posix.parts[:1] == (IMAGES_DIR,) else posix.parts
    if "\\" in value or posix.is_absolute() or not parts or any(p in ("..", ".") for p in parts):
        raise InputError(
            f"{where}: field 'image': {shown(value)} must be an http(s) URL or a file in the project's "
            f"{IMAGES_DIR}/ folder, like {IMAGES_DIR}/park.jpg"
        )
    path = root / IMAGES_DIR / Path(*parts)
    suffix = path.suffix.lower()
    if suffix in HEIC_SUFFIXES and not heic_supported():
        raise InputError(
            f"{where}: field 'image': {shown(value)} is a HEIC photo, which this installation cannot read"
            " (export it as JPEG, or install pillow-heif)"
        )
    if suffix not in PICTURE_SUFFIXES and suffix not in HEIC_SUFFIXES:
        raise InputError(
            f"{where}: field 'image': {shown(value)} is not a JPEG, PNG or WebP picture (.jpg, .jpeg, .png, .webp)"
        )
    if not path.is_file():
        raise InputError(f"{where}: field 'image': {shown(value)} not found (looked for {path})")
    return path


@dataclass(frozen=True)
class EmailImage:
    """One picture as made for one slot: the file to publish and the size to show it at."""

    name: str  # file name under images/ in the cache and the archive (content-hashed)
    path: Path  # the made file, in the project's cache
    width: int  # pixels of the made file
    height: int
    slot: int  # CSS pixels the template gives it
    source: Path
    source_width: int  # pixels of the source, upright
    source_height: int
    size: int  # bytes of the made file
    made: bool = False  # made by this call (False: found in the cache)

    @property
    def shown_height(self) -> int:
        """The `height` attribute at the slot's width (Outlook sizes from attributes, not CSS)."""
        return max(1, round(self.slot * self.height / self.width))

    def url(self, archive_url: str) -> str:
        return f"{archive_url.rstrip('/')}/{IMAGES_DIR}/{self.name}"


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


def prepare(source: Path, slot: int, cache: Path, where: str = "") -> EmailImage:
    """The picture at `source` made for a slot `slot` CSS pixels wide; from the cache when this
    source and slot were made before."""
    where = where or str(source)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InputError(f"{where}: cannot read {source}: {exc.strerror}") from exc
    key = hashlib.sha256(f"v{PROCESS_VERSION}:{slot}:".encode() + data).hexdigest()[:32]
    found = _cached(cache, key, source, slot)
    if found is not None:
        return found
    made, width, height, upright = _make(data, slot, source, where)
    suffix = "png" if made[:4] == b"\x89PNG" else "jpg"
    stem = re.sub(r"[^a-z0-9]+", "-", source.stem.lower()).strip("-")[:40] or "picture"
    name = f"{stem}-{hashlib.sha256(made).hexdigest()[:16]}.{suffix}"
    record = {"name": name, "width": width, "height": height, "source_width": upright[0], "source_height": upright[1]}
    try:
        write_atomic(cache / name, made, mode=PUBLIC)
        write_atomic(cache / f"{key}.json", json.dumps(record).encode(), mode=PUBLIC)
    except OSError as exc:
        raise InputError(f"{cache}: cannot keep made pictures here: {exc.strerror}") from exc
    return EmailImage(name, cache / name, width, height, slot, source, upright[0], upright[1], len(made), made=True)


def _cached(cache: Path, key: str, source: Path, slot: int) -> EmailImage | None:
    """The record of an earlier make of the same bytes for the same slot, if its file is still there."""
    try:
        record = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
        name = str(record["name"])
        if not RESULT_NAME.match(name):
            return None
        size = (cache / name).stat().st_size
        numbers = [int(record[k]) for k in ("width", "height", "source_width", "source_height")]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return EmailImage(name, cache / name, numbers[0], numbers[1], slot, source, numbers[2], numbers[3], size)


def _make(data: bytes, slot: int, source: Path, where: str) -> tuple[bytes, int, int, tuple[int, int]]:
    """Decode, turn upright, convert to sRGB, scale down, and encode with no metadata at all."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            picture = ImageOps.exif_transpose(opened)
    except Image.DecompressionBombError:
        raise InputError(f"{where}: {source} has more than {MAX_PIXELS:,} pixels; scale it down first") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        detail = " ".join(str(exc).split())[:120]
        raise InputError(f"{where}: {source} is not a picture that can be read ({detail})") from None
    upright = picture.size
    picture = _srgb(picture)
    alpha = _has_transparency(picture)
    picture = picture.convert("RGBA" if alpha else "RGB")
    target = slot * DENSITY
    if picture.width > target:
        height = max(1, round(picture.height * target / picture.width))
        picture = picture.resize((target, height), Image.Resampling.LANCZOS)
    clean = Image.new(picture.mode, picture.size)  # a new image: no info, EXIF, XMP, ICC or text chunks
    clean.paste(picture)
    out = io.BytesIO()
    if alpha:
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue(), clean.width, clean.height, upright


def _srgb(picture: Image.Image) -> Image.Image:
    """A picture with an embedded colour profile (a phone's Display P3) converted to sRGB, the
    space mail clients assume once the profile is gone."""
    icc = picture.info.get("icc_profile")
    if not icc or picture.mode not in ("RGB", "RGBA"):
        return picture
    with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
        converted = ImageCms.profileToProfile(
            picture, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode=picture.mode
        )
        if converted is not None:
            return converted
    return picture


def _has_transparency(picture: Image.Image) -> bool:
    """True when some pixel is not fully opaque (an alpha channel that is all 255 is a photo)."""
    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode in ("RGBA", "LA", "PA"):
        low = picture.getchannel("A").getextrema()[0]
        return isinstance(low, (int, float)) and low < 255
    return False
