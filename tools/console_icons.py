"""The console's app icons (`console/public/icons/`): `python -m tools.console_icons` writes them.

A plain design drawn here, nothing downloaded: a white ring with a tick (a service done) on the
console's accent blue (#0b57d0, `console/src/styles.css`). `icon-192.png` and `icon-512.png` have
rounded corners (transparent outside); `maskable-512.png` is full bleed with the mark inside the
maskable safe zone (a circle of 40 % of the size), `apple-touch-icon.png` (180 px) is opaque, as iOS
wants it; `favicon-32.png` for the tab. Antialiased with signed distances, stdlib only (zlib + struct).
The PNGs are committed; run this again only to change the design."""
from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "console" / "public" / "icons"
BLUE = (0x0B, 0x57, 0xD0)
WHITE = (0xFF, 0xFF, 0xFF)


def _segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _rounded_square(px: float, py: float, radius: float) -> float:
    """Signed distance to the unit square [0, 1]² with rounded corners (negative inside)."""
    qx, qy = abs(px - 0.5) - (0.5 - radius), abs(py - 0.5) - (0.5 - radius)
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - radius


def _mark(px: float, py: float, scale: float) -> float:
    """Signed distance to the mark (ring + tick), centred, `scale` = the ring's outer radius."""
    x, y = (px - 0.5) / scale, (py - 0.5) / scale  # the mark in its own unit: ring radius 1
    ring = abs(math.hypot(x, y) - 0.84) - 0.16
    tick = min(_segment(x, y, -0.42, 0.02, -0.12, 0.32), _segment(x, y, -0.12, 0.32, 0.44, -0.3)) - 0.14
    return min(ring, tick) * scale


def draw(size: int, *, corner: float | None, mark: float) -> bytes:
    """RGBA rows of one icon: `corner` = the background's corner radius (None: full bleed)."""
    pixel = 1.0 / size
    rows = []
    for j in range(size):
        row = bytearray([0])  # filter: none
        py = (j + 0.5) * pixel
        for i in range(size):
            px = (i + 0.5) * pixel
            back = 1.0 if corner is None else max(0.0, min(1.0, 0.5 - _rounded_square(px, py, corner) / pixel))
            front = max(0.0, min(1.0, 0.5 - _mark(px, py, mark) / pixel))
            rgb = [round(b + (w - b) * front) for b, w in zip(BLUE, WHITE)]
            row += bytes(rgb) + bytes([round(255 * back)])
        rows.append(bytes(row))
    return b"".join(rows)


def png(size: int, rgba: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rgba, 9)) + chunk(b"IEND", b"")


ICONS = {  # name: (size, corner radius or None, the mark's outer radius), all in units of the icon's size
    "icon-192.png": (192, 0.18, 0.32),
    "icon-512.png": (512, 0.18, 0.32),
    "maskable-512.png": (512, None, 0.26),  # inside the safe zone (radius 0.4) with room to spare
    "apple-touch-icon.png": (180, None, 0.3),
    "favicon-32.png": (32, 0.12, 0.4),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (size, corner, mark) in ICONS.items():
        (OUT / name).write_bytes(png(size, draw(size, corner=corner, mark=mark)))
        print(f"{OUT / name}: {size}×{size}")


if __name__ == "__main__":
    main()
