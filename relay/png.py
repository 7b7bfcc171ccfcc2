"""A minimal PNG encoder and a moving test pattern, with the standard library only.

The reference device client must show *something* on machines without a display
(servers, CI) and must not pull an imaging library into the relay's
dependencies for it. PNG needs only zlib and CRC-32, both in the standard
library; truecolor 8-bit with filter 0 is enough for a test pattern.
"""

from __future__ import annotations

import struct
import zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_png(width: int, height: int, rgb: bytes, *, level: int = 1) -> bytes:
    """PNG bytes of an 8-bit RGB image given as rows of ``width*3`` bytes."""
    if len(rgb) != width * height * 3:
        raise ValueError(f"{width}x{height} RGB needs {width * height * 3} bytes, got {len(rgb)}")
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, level)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def test_pattern(width: int, height: int, frame: int) -> bytes:
    """RGB bytes: colour bars with a white block that moves a little every frame,
    so a viewer can see at a glance that frames flow and in which order."""
    bars = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192)]
    bar_width = max(1, width // len(bars))
    row = bytearray()
    for x in range(width):
        row += bytes(bars[min(x // bar_width, len(bars) - 1)])
    size = max(4, min(width, height) // 6)
    bx = (frame * 7) % max(1, width - size)
    by = (frame * 3) % max(1, height - size)
    block_row = bytearray(row)
    block_row[bx * 3 : (bx + size) * 3] = b"\xff" * (size * 3)
    plain, boxed = bytes(row), bytes(block_row)
    return b"".join(boxed if by <= y < by + size else plain for y in range(height))
