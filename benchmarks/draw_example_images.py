"""Draw the example project's pictures (`images/*.png`): simple scenes made with Pillow.

The example articles need pictures that exist, so a newcomer's first preview, archive and outbox
show real images; drawings, not photographs, so no real person is pictured. Run it again after
changing a scene (the output is deterministic):

    .venv/bin/python benchmarks/draw_example_images.py

Kept beside the benchmarks because `benchmarks/images_build.py` uses the same pictures.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1200, 750
SCALE = 2  # drawn at twice the size and scaled down: smooth edges without an antialiasing API
Draw = ImageDraw.ImageDraw
Box = tuple[float, float, float, float]

SKY_TOP, SKY_LOW = (150, 196, 226), (222, 236, 242)
GRASS, GRASS_DARK = (120, 170, 96), (86, 140, 74)
BRICK, BRICK_DARK, STONE = (176, 84, 58), (140, 62, 44), (214, 200, 170)
GREEN, CREAM, INK = (16, 92, 70), (246, 240, 226), (40, 44, 52)


def _s(*values: float) -> list[float]:
    return [v * SCALE for v in values]


def _sky(draw: Draw, horizon: float) -> None:
    """A vertical gradient from the top down to the horizon."""
    for y in range(int(horizon * SCALE)):
        t = y / (horizon * SCALE)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(SKY_TOP, SKY_LOW, strict=True))
        draw.line([(0, y), (WIDTH * SCALE, y)], fill=colour)


def _rect(draw: Draw, box: Box, fill: tuple[int, int, int]) -> None:
    draw.rectangle(_s(*box), fill=fill)


def _tree(draw: Draw, x: float, ground: float, size: float) -> None:
    _rect(draw, (x - size * 0.08, ground - size * 0.6, x + size * 0.08, ground), (110, 78, 52))
    draw.ellipse(_s(x - size * 0.45, ground - size * 1.3, x + size * 0.45, ground - size * 0.45), fill=GRASS_DARK)


def _house(draw: Draw, x: float, ground: float, w: float, h: float, colour: tuple[int, int, int]) -> None:
    _rect(draw, (x, ground - h, x + w, ground), colour)
    draw.polygon(_s(x - 12, ground - h, x + w / 2, ground - h - w * 0.45, x + w + 12, ground - h), fill=(90, 70, 70))
    _rect(draw, (x + w * 0.4, ground - h * 0.45, x + w * 0.6, ground), GREEN)
    for wx in (x + w * 0.12, x + w * 0.66):
        _rect(draw, (wx, ground - h * 0.85, wx + w * 0.22, ground - h * 0.55), CREAM)


def homes(draw: Draw) -> None:
    """A street of homes with a park in front (children's homes)."""
    _sky(draw, 470)
    _rect(draw, (0, 470, WIDTH, HEIGHT), GRASS)
    for i, colour in enumerate((BRICK, (196, 150, 90), BRICK_DARK, (170, 120, 96), BRICK)):
        _house(draw, 70 + i * 220, 520, 170, 190, colour)
    _rect(draw, (0, 540, WIDTH, 600), (150, 150, 150))
    for x in (120, 420, 760, 1080):
        _tree(draw, x, 700, 120)


def _viaduct(draw: Draw, top: float, ground: float) -> None:
    _rect(draw, (0, top, WIDTH, top + 40), BRICK_DARK)
    span = 150
    for i in range(WIDTH // span + 1):
        x = i * span
        _rect(draw, (x, top + 40, x + 30, ground), BRICK)
        draw.pieslice(_s(x + 30, top + 60, x + span, top + 60 + (span - 30)), 180, 360, fill=SKY_LOW)
        _rect(draw, (x + 30, top + 40, x + span, top + 60), BRICK)


def _train(draw: Draw, x: float, rail: float) -> None:
    for car in range(3):
        cx = x + car * 260
        draw.rounded_rectangle(_s(cx, rail - 90, cx + 240, rail - 8), radius=16 * SCALE, fill=(34, 90, 150))
        _rect(draw, (cx, rail - 44, cx + 240, rail - 34), (250, 200, 40))
        for w in range(4):
            _rect(draw, (cx + 20 + w * 55, rail - 80, cx + 60 + w * 55, rail - 52), (200, 228, 240))
        for wheel in (cx + 40, cx + 200):
            draw.ellipse(_s(wheel - 14, rail - 20, wheel + 14, rail + 8), fill=INK)


def viaduct(draw: Draw) -> None:
    """Stockport's railway viaduct with a train crossing it, over the town."""
    _sky(draw, 640)
    _viaduct(draw, 250, 640)
    _train(draw, 240, 250)
    _rect(draw, (0, 600, WIDTH, HEIGHT), GRASS)
    for i in range(6):
        _house(draw, 40 + i * 200, 720, 120, 110, (BRICK, (190, 150, 110))[i % 2])


def station(draw: Draw) -> None:
    """A railway platform with a train at it (county lines run along the railways)."""
    _sky(draw, 420)
    _rect(draw, (0, 420, WIDTH, HEIGHT), (120, 120, 124))
    _rect(draw, (0, 560, WIDTH, 600), STONE)
    _rect(draw, (0, 596, WIDTH, 606), (250, 220, 60))
    _train(draw, 60, 520)
    _rect(draw, (900, 180, 920, 560), INK)
    draw.rounded_rectangle(_s(820, 150, 1100, 220), radius=10 * SCALE, fill=GREEN)
    for i in range(5):
        _rect(draw, (840 + i * 50, 172, 870 + i * 50, 198), CREAM)


def parliament(draw: Draw) -> None:
    """A stone building with a clock tower (Westminster, drawn simply)."""
    _sky(draw, 600)
    _rect(draw, (0, 600, WIDTH, HEIGHT), (90, 120, 150))
    _rect(draw, (120, 330, 1080, 600), STONE)
    for x in range(150, 1080, 60):
        _rect(draw, (x, 380, x + 24, 560), (180, 164, 130))
    _rect(draw, (860, 90, 960, 600), STONE)
    draw.polygon(_s(850, 90, 910, 10, 970, 90), fill=(80, 90, 100))
    draw.ellipse(_s(875, 130, 945, 200), fill=CREAM, outline=INK, width=4 * SCALE)
    draw.line(_s(910, 165, 910, 140), fill=INK, width=4 * SCALE)
    draw.line(_s(910, 165, 930, 165), fill=INK, width=4 * SCALE)


def report(draw: Draw) -> None:
    """A report lying on a table, its cover a house drawn in lines."""
    _rect(draw, (0, 0, WIDTH, HEIGHT), (196, 160, 120))
    draw.polygon(_s(330, 110, 900, 80, 940, 680, 300, 690), fill=CREAM)
    draw.polygon(_s(330, 110, 900, 80, 905, 190, 335, 215), fill=GREEN)
    for i in range(5):
        draw.line(_s(380, 520 + i * 28, 860, 510 + i * 28), fill=(150, 150, 150), width=6 * SCALE)
    draw.polygon(_s(520, 330, 620, 260, 720, 330), outline=GREEN, width=8 * SCALE)
    draw.rectangle(_s(540, 330, 700, 460), outline=GREEN, width=8 * SCALE)


def bus_station(draw: Draw) -> None:
    """An empty bench under a bus shelter, a bus arriving."""
    _sky(draw, 450)
    _rect(draw, (0, 450, WIDTH, HEIGHT), (140, 140, 140))
    _rect(draw, (0, 430, WIDTH, 470), STONE)
    _rect(draw, (140, 160, 560, 180), GREEN)
    for x in (150, 530):
        _rect(draw, (x, 180, x + 14, 440), GREEN)
    _rect(draw, (200, 360, 500, 380), (150, 100, 60))
    for x in (220, 470):
        _rect(draw, (x, 380, x + 10, 440), INK)
    draw.rounded_rectangle(_s(640, 210, 1180, 520), radius=24 * SCALE, fill=(200, 40, 40))
    for i in range(4):
        _rect(draw, (670 + i * 125, 240, 770 + i * 125, 330), (200, 228, 240))
    for wheel in (740, 1080):
        draw.ellipse(_s(wheel - 40, 480, wheel + 40, 560), fill=INK)


SCENES: dict[str, Callable[[Draw], None]] = {
    "childrens-homes": homes,
    "stockport-viaduct": viaduct,
    "railway-platform": station,
    "westminster": parliament,
    "report-cover": report,
    "bus-shelter": bus_station,
}


def draw_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, scene in SCENES.items():
        picture = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), SKY_LOW)
        scene(ImageDraw.Draw(picture))
        path = folder / f"{name}.png"
        picture.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).save(path, optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for written in draw_all(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "images"):
        print(written)
