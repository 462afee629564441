"""Read pixels out of Chromium's PNG screenshots without an imaging library (zlib + the five filters)."""

from __future__ import annotations

import struct
import zlib

from newsletter.checks.accessibility import contrast, luminance

__all__ = ["Png", "contrast", "luminance"]

Pixel = tuple[int, int, int]


class Png:
    """An 8-bit RGB or RGBA, non-interlaced PNG, as Chromium writes screenshots."""

    def __init__(self, data: bytes) -> None:
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        position, idat = 8, b""
        while position < len(data):
            (length,) = struct.unpack(">I", data[position : position + 4])
            kind = data[position + 4 : position + 8]
            body = data[position + 8 : position + 8 + length]
            if kind == b"IHDR":
                self.width, self.height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
                assert depth == 8 and colour in (2, 6) and interlace == 0, "unsupported PNG"
                self.channels = 4 if colour == 6 else 3
            elif kind == b"IDAT":
                idat += body
            position += 12 + length
        self.rows = self._unfilter(zlib.decompress(idat))

    def _unfilter(self, raw: bytes) -> list[bytearray]:
        stride, bpp = self.width * self.channels, self.channels
        rows: list[bytearray] = []
        previous = bytearray(stride)
        for y in range(self.height):
            start = y * (stride + 1)
            kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up = previous[i]
                corner = previous[i - bpp] if i >= bpp else 0
                if kind == 1:
                    line[i] = (line[i] + left) & 0xFF
                elif kind == 2:
                    line[i] = (line[i] + up) & 0xFF
                elif kind == 3:
                    line[i] = (line[i] + (left + up) // 2) & 0xFF
                elif kind == 4:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                    line[i] = (line[i] + predictor) & 0xFF
            rows.append(line)
            previous = line
        return rows

    def pixel(self, x: int, y: int) -> Pixel:
        i = x * self.channels
        row = self.rows[y]
        return row[i], row[i + 1], row[i + 2]
