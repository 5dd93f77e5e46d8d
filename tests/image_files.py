"""Image files made on the fly, so no binary is committed: real ones Pillow writes, and the
hostile ones X would refuse (a decompression bomb, an oversized GIF) built cheaply."""

import io
import struct
import zlib

from PIL import Image


def image_bytes(size: tuple[int, int] = (64, 48), kind: str = "PNG", colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def animated_gif(frames: int, size: tuple[int, int] = (16, 16)) -> bytes:
    """Each frame a different colour, so Pillow keeps them all."""
    images = [
        Image.new("RGB", size, (i * 7 % 256, i * 13 % 256, i * 29 % 256)) for i in range(frames)
    ]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def bilevel_png(width: int, height: int) -> bytes:
    """A valid black 1-bit PNG of any size, compressed row by row: a 30000x30000 one is about
    100 KB and is written without ever holding its 900 million pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte "none", then the packed bits
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def sparse_gif(frames: int, screen: tuple[int, int]) -> bytes:
    """An animated GIF on a large screen whose frames are single pixels: X counts the screen
    for every frame, and this costs a few bytes a frame to write instead of a megabyte."""
    width, height = screen
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF0, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\0\0\0"
    # One pixel of colour 0: LZW codes clear (4), 0, end (5) in 3 bits each.
    pixel = b"\x02\x02\x44\x01\x00"
    body = b"".join(
        b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 0.1 s a frame
        + b"\x2c"
        + struct.pack("<HHHHB", n % width, 0, 1, 1, 0)
        + pixel
        for n in range(frames)
    )
    return head + loop + body + b"\x3b"
